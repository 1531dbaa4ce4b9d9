// qless-worker's version (package.json's), for --version and the published pool status.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

export function packageVersion(): string {
  if (version === undefined) {
    const file = fileURLToPath(new URL('../package.json', import.meta.url));
    version = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return version;
}
