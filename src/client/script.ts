// The unified qless script: its source, as shipped in src/lua, and its SHA1 for EVALSHA.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT_PATH = fileURLToPath(new URL('../lua/qless.lua', import.meta.url));

let cached: { source: string; sha: string } | undefined;

function load(): { source: string; sha: string } {
  if (!cached) {
    const source = readFileSync(SCRIPT_PATH, 'utf8');
    cached = { source, sha: createHash('sha1').update(source).digest('hex') };
  }
  return cached;
}

/** The script's text, exactly as `SCRIPT LOAD` receives it. */
export function scriptSource(): string {
  return load().source;
}

/** SHA1 of the script, the name Redis knows it by. */
export function scriptSha(): string {
  return load().sha;
}

/** The script's last statement: the dispatch on the EVALSHA arguments. */
const DISPATCH_LINE = 'return dispatch(KEYS, ARGV)';

/**
 * The same script as a Redis 7 function library named `qless` with one function `qless`:
 * `FCALL qless 0 <command> <now> args…` behaves exactly like the EVALSHA call. The script ends
 * with its dispatch on KEYS/ARGV; that line becomes the registration instead.
 */
export function functionLibrarySource(): string {
  return functionLibraryFrom(scriptSource(), SCRIPT_PATH);
}

/** The function library made from another build of the script (benchmarks compare versions). */
export function functionLibraryFrom(scriptText: string, origin = 'the script'): string {
  const source = scriptText.trimEnd();
  if (!source.endsWith(DISPATCH_LINE)) {
    throw new Error(`${origin} must end with "${DISPATCH_LINE}" to be loaded as a function library`);
  }
  return `#!lua name=qless\n${source.slice(0, -DISPATCH_LINE.length)}redis.register_function('qless', dispatch)\n`;
}
