// Decoding of script replies: JSON text, cjson's `{}` for empty lists, numbers sent as text.
import { QlessError } from './errors.ts';
import type { JsonValue, ScriptReply } from './types.ts';

/** The reply parsed as JSON, or null for a nil reply. */
export function parseReply<T>(reply: ScriptReply, command: string): T | null {
  if (reply === null) return null;
  if (typeof reply !== 'string')
    throw new QlessError(`unexpected reply to ${command}: ${JSON.stringify(reply)}`, command);
  try {
    return JSON.parse(reply) as T;
  } catch {
    throw new QlessError(`reply to ${command} is not JSON: ${reply.slice(0, 200)}`, command);
  }
}

/** cjson encodes an empty list as `{}`; anything that is not an array is an empty list. */
export function asList<T>(value: T[] | Record<string, never> | null | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

export function asNumber(reply: ScriptReply, command: string): number {
  const number = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : Number.NaN;
  if (Number.isNaN(number)) throw new QlessError(`unexpected reply to ${command}: ${JSON.stringify(reply)}`, command);
  return number;
}

export function asString(reply: ScriptReply, command: string): string {
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number') return String(reply);
  throw new QlessError(`unexpected reply to ${command}: ${JSON.stringify(reply)}`, command);
}

export function asStrings(reply: ScriptReply, command: string): string[] {
  if (!Array.isArray(reply)) throw new QlessError(`unexpected reply to ${command}: ${JSON.stringify(reply)}`, command);
  return reply.map((item) => asString(item, command));
}

/** A job's `data` string decoded; text that is not JSON (qless never writes such) is kept as is. */
export function decodeData(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}
