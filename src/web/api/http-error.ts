// Errors an API route answers with: a status and one message a person can act on. Every route
// checks its input before it calls qless, so a refused request has changed nothing.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError, QlessError } from '../../client/errors.ts';

export class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
export const forbidden = (message: string): HttpError => new HttpError(403, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);
/** qless refused the change (e.g. cancel of a job others depend on). */
export const conflict = (message: string): HttpError => new HttpError(409, message);

/** ioredis giving up on a command (Redis away) or a socket error: nothing the request did wrong. */
function isRedisTrouble(error: Error): boolean {
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)$/.test(code);
}

/** The body of every error reply. */
export interface ErrorBody {
  error: string;
  statusCode: number;
}

/** Maps thrown errors to JSON replies: ours as they are, the client's input checks as 400, qless's refusals as 409. */
export function replyWithError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  let status = 500;
  let message = 'internal error';
  if (error instanceof HttpError) {
    status = error.statusCode;
    message = error.message;
  } else if (error instanceof InvalidInputError) {
    status = 400;
    message = error.message;
  } else if (error instanceof QlessError) {
    status = 409;
    message = error.message;
  } else if (isRedisTrouble(error)) {
    status = 503;
    message = `Redis is not answering: ${error.message}`;
  } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
    // fastify's own refusals: malformed JSON body, body too large, wrong content type.
    status = error.statusCode;
    message = error.message;
  }
  if (status === 500) request.log.error({ err: error }, 'dashboard request failed');
  else if (status === 503) request.log.warn({ err: error }, 'dashboard request failed: Redis is not answering');
  const body: ErrorBody = { error: message, statusCode: status };
  void reply.code(status).type('application/json; charset=utf-8').send(body);
}
