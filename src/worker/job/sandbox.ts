// Sandbox directories: made, emptied before and after every job, and never a way to delete
// anything outside them. Every entry is examined with lstat, so a symlink left by a job is
// removed as a link and never followed; a sandbox that a job replaced with a symlink or a file
// is replaced by a fresh directory.
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { isAbsolute, join, parse, resolve } from 'node:path';

export class SandboxError extends Error {
  override name = 'SandboxError';
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Refuses paths that must never be emptied (relative paths, a filesystem root). */
function assertSandboxPath(dir: string): void {
  if (!isAbsolute(dir)) throw new SandboxError(`sandbox path must be absolute: ${dir}`);
  if (resolve(dir) === parse(resolve(dir)).root)
    throw new SandboxError(`refusing to use a filesystem root as sandbox: ${dir}`);
}

/** Deletes the contents of a real directory (not following symlinks), keeping the directory. */
function emptyRealDirectory(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    // A job may have taken its own permissions away; the directory is ours to fix.
    chmodSync(dir, 0o700);
    names = readdirSync(dir);
  }
  for (const name of names) removeEntry(join(dir, name), dir);
}

function removeEntry(path: string, parent: string): void {
  const stats = lstatOrUndefined(path);
  if (!stats) return;
  if (stats.isDirectory()) {
    emptyRealDirectory(path);
    removeWithParentWritable(() => rmdirSync(path), parent);
  } else {
    removeWithParentWritable(() => unlinkSync(path), parent);
  }
}

/** Runs a removal, making the parent (inside the sandbox) writable again if a job made it read-only. */
function removeWithParentWritable(remove: () => void, parent: string): void {
  try {
    remove();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    chmodSync(parent, 0o700);
    remove();
  }
}

/**
 * Makes sure `dir` is a real directory: a symlink or file in its place is unlinked and replaced
 * (then undefined is returned).
 */
function ensureRealDirectory(dir: string): Stats | undefined {
  const stats = lstatOrUndefined(dir);
  if (stats?.isDirectory()) return stats;
  if (stats) unlinkSync(dir); // a symlink (or file) in its place: drop the link only, never its target
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return undefined;
}

/**
 * Makes `dir` an empty real directory: creates it (and its parents) if missing, empties it if
 * present, and replaces a symlink or file at that path with a fresh directory. Returns true when
 * the directory was made anew (a process whose cwd it was must chdir into it again).
 */
export function emptySandbox(dir: string): boolean {
  assertSandboxPath(dir);
  return emptyCheckedSandbox(dir);
}

/** emptySandbox for a path already checked by assertSandboxPath. */
function emptyCheckedSandbox(dir: string): boolean {
  const stats = ensureRealDirectory(dir);
  if (!stats) return true;
  if ((stats.mode & 0o700) !== 0o700) chmodSync(dir, stats.mode | 0o700);
  emptyRealDirectory(dir);
  return false;
}

/**
 * The sandboxes of one worker process, for the runner's every job: the slot's sandbox and, at
 * concurrency above 1, one sub-directory per lane. Paths are checked and joined once. Before a
 * job, the slot's sandbox is checked to be a real directory (so a job cannot redirect a sibling's
 * path) once per synchronous stretch: the jobs of one pop start together with no handler code in
 * between. Each job's directory is still examined (lstat, readdir) before and after every job.
 */
export class JobSandboxes {
  private readonly lanes: string[];
  private slotChecked = false;

  constructor(
    readonly slot: string,
    readonly concurrency: number,
  ) {
    assertSandboxPath(slot);
    this.lanes = concurrency > 1 ? Array.from({ length: concurrency }, (_, lane) => join(slot, `job-${lane}`)) : [];
  }

  /**
   * The emptied directory of the job in `lane` (0 … concurrency-1): the slot's sandbox itself at
   * concurrency 1, else its sub-directory `job-<lane>`; `recreated` when it was made anew.
   */
  prepare(lane: number): { dir: string; recreated: boolean } {
    if (this.concurrency <= 1) return { dir: this.slot, recreated: emptyCheckedSandbox(this.slot) };
    const dir = this.lanes[lane];
    if (dir === undefined) throw new SandboxError(`no sandbox lane ${lane} at concurrency ${this.concurrency}`);
    if (!this.slotChecked) {
      ensureRealDirectory(this.slot);
      this.slotChecked = true;
      queueMicrotask(() => {
        this.slotChecked = false;
      });
    }
    return { dir, recreated: emptyCheckedSandbox(dir) };
  }

  /** Empties a directory `prepare` handed out, after its job; true when it was made anew. */
  empty(dir: string): boolean {
    if (dir !== this.slot && !this.lanes.includes(dir)) throw new SandboxError(`not a sandbox of this worker: ${dir}`);
    return emptyCheckedSandbox(dir);
  }
}
