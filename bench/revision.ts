// Which code was measured: the commit, and whether src/ or bin/ had uncommitted changes (others
// may be tuning the worker in the same tree while the bench runs); and the commit a --baseline
// names.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Revision {
  commit: string;
  /** Uncommitted changes under src/ or bin/ were measured too. */
  dirty: boolean;
}

/** The checkout the bench runs from. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

function git(args: string[]): string | undefined {
  const result = spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function measuredRevision(): Revision {
  const commit = git(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const changes = git(['status', '--porcelain', '--', 'src', 'bin']);
  return { commit, dirty: changes === undefined ? false : changes !== '' };
}

/** A commit named by any revision git understands (hash, tag, HEAD~3), or undefined if it names none. */
export function resolveCommit(revision: string): { commit: string; short: string } | undefined {
  const commit = git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  const short = commit && git(['rev-parse', '--short', commit]);
  return commit && short ? { commit, short } : undefined;
}
