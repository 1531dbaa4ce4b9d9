// The unified qless script: its source, as shipped in src/lua, and its SHA1 for EVALSHA.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SCRIPT_PATH = fileURLToPath(new URL('../lua/qless.lua', import.meta.url));

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
