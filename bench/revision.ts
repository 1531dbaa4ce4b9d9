// Which code was measured: the commit, and whether src/ or bin/ had uncommitted changes (others
// may be tuning the worker in the same tree while the bench runs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Revision {
  commit: string;
  /** Uncommitted changes under src/ or bin/ were measured too. */
  dirty: boolean;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function git(args: string[]): string | undefined {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function measuredRevision(): Revision {
  const commit = git(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const changes = git(['status', '--porcelain', '--', 'src', 'bin']);
  return { commit, dirty: changes === undefined ? false : changes !== '' };
}
