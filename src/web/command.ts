// What `qless web` does once its flags are read: start the dashboard, say where it is, and stop
// cleanly on Ctrl-C or SIGTERM. The yargs side lives in src/cli/qless/web.ts.
import { spawn } from 'node:child_process';
import { DEFAULT_HOST, DEFAULT_PORT, parseBasicAuth, type ServeOptions, WebOptionsError } from './options.ts';
import { startDashboard } from './server.ts';
import { createAuditLogger } from './audit-logger.ts';

export interface WebFlags {
  port?: string;
  host?: string;
  auth?: string;
  token?: string;
  readOnly: boolean;
  open: boolean;
}

/** Flags, else QLESS_WEB_* variables, else defaults; throws WebOptionsError for a value that cannot be used. */
export function serveOptionsFrom(flags: WebFlags, env: NodeJS.ProcessEnv = process.env): ServeOptions {
  const pick = (flag: string | undefined, name: string): string | undefined =>
    flag ?? (env[name] === '' ? undefined : env[name]);
  const portText = pick(flags.port, 'QLESS_WEB_PORT');
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (portText !== undefined && (!/^\d+$/.test(portText) || port > 65535))
    throw new WebOptionsError(`--port must be a whole number from 0 to 65535, got ${portText}`);
  const auth = pick(flags.auth, 'QLESS_WEB_AUTH');
  const readOnlyEnv = env.QLESS_WEB_READ_ONLY;
  if (readOnlyEnv !== undefined && !['', '0', '1', 'true', 'false'].includes(readOnlyEnv))
    throw new WebOptionsError(`QLESS_WEB_READ_ONLY must be 1, true, 0 or false, got ${readOnlyEnv}`);
  return {
    host: pick(flags.host, 'QLESS_WEB_HOST') ?? DEFAULT_HOST,
    port,
    auth: auth === undefined ? undefined : parseBasicAuth(auth, flags.auth === undefined ? 'QLESS_WEB_AUTH' : '--auth'),
    token: pick(flags.token, 'QLESS_WEB_TOKEN'),
    readOnly: flags.readOnly || readOnlyEnv === '1' || readOnlyEnv === 'true',
  };
}

/** Why the server could not listen, in the words of the flag to change; undefined for other errors. */
export function listenProblem(error: unknown, options: ServeOptions): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `--port ${options.port}: the port is in use on ${options.host}`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `--host ${options.host}: not an address of this machine`;
  if (code === 'EACCES')
    return `--port ${options.port}: not allowed to listen on it (ports below 1024 need privileges)`;
  return undefined;
}

function openBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** Runs the dashboard until SIGINT or SIGTERM; `say` prints a line for the user. */
export async function serveUntilStopped(
  options: ServeOptions & { redis: string; open: boolean },
  say: (line: string) => Promise<void>,
): Promise<void> {
  // Audit lines of writes go to stderr; stdout carries only what the command says.
  const logger = createAuditLogger();
  // Listening for the signals first: a Ctrl-C right after the URL appears still stops cleanly.
  let stop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  try {
    dashboard = await startDashboard({ ...options, logger });
  } catch (error) {
    stop();
    throw error;
  }
  await say(`qless web: dashboard on ${dashboard.url}${options.readOnly ? ' (read-only)' : ''} — Ctrl-C to stop`);
  if (options.open) openBrowser(dashboard.url);
  await stopped;
  await dashboard.close();
  logger.flush();
}
