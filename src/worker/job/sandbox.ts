// Sandbox directories: made, emptied before and after every job, and never a way to delete
// anything outside them. Every entry is examined with lstat, so a symlink left by a job is
// removed as a link and never followed; a sandbox that a job replaced with a symlink or a file
// is replaced by a fresh directory.
//
// Most jobs never write to their sandbox, and listing it before and after each one (open,
// getdents, close) was about a tenth of a no-op job's CPU. A directory's ctime changes whenever an
// entry is created, removed or renamed in it (POSIX), and nobody can set it back (unlike mtime).
// So once a listing found a sandbox empty, an lstat that shows the same inode and the same ctime
// proves it is still empty, provided a later change could not carry the same ctime: the
// filesystem keeps timestamps finer than a millisecond (a ctime that is a whole millisecond is
// taken for a coarse one) and the recorded ctime was already FRESH_CTIME_MS old when the listing
// ran (the kernel stamps with a clock that lags by at most a tick, ≤ 10 ms). Otherwise the
// directory is listed, as before.
// The lstat is Node's plain one (times as milliseconds in a double: a quarter of a microsecond
// apart at today's dates, far finer than the FRESH_CTIME_MS the proof rests on), not its BigInt
// form: that one made fourteen BigInts and four Dates for every check, twice per job, and its
// optimized code was among the largest a worker compiles (measured: ~70 ms of TurboFan per drain).
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { isAbsolute, join, parse, resolve } from 'node:path';

export class SandboxError extends Error {
  override name = 'SandboxError';
}

/** A recorded ctime younger than this (ms) when the listing ran proves nothing about later changes. */
const FRESH_CTIME_MS = 50;

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** What an lstat of a sandbox showed right before a listing found it empty. */
interface EmptySeen {
  ino: number;
  ctimeMs: number;
}

/** The sandboxes a listing found empty, for checks that can skip listing them again. */
class EmptyRecord {
  private readonly seen = new Map<string, EmptySeen>();

  /** True when `stats` (a fresh lstat of `dir`) proves it is still as empty as last seen. */
  stillEmpty(dir: string, stats: Stats): boolean {
    const seen = this.seen.get(dir);
    return seen !== undefined && seen.ino === stats.ino && seen.ctimeMs === stats.ctimeMs;
  }

  /** A listing of `dir`, begun after `stats` was taken, found it empty. */
  foundEmpty(dir: string, stats: Stats): void {
    // A whole millisecond: a filesystem with coarse timestamps (or, once in thousands, a fine
    // one whose fraction rounded away): listed every time, as without the proof.
    const provable = !Number.isInteger(stats.ctimeMs) && stats.ctimeMs < Date.now() - FRESH_CTIME_MS;
    if (provable) this.seen.set(dir, { ino: stats.ino, ctimeMs: stats.ctimeMs });
    else this.seen.delete(dir);
  }

  forget(dir: string): void {
    this.seen.delete(dir);
  }
}

/** Refuses paths that must never be emptied (relative paths, a filesystem root). */
function assertSandboxPath(dir: string): void {
  if (!isAbsolute(dir)) throw new SandboxError(`sandbox path must be absolute: ${dir}`);
  if (resolve(dir) === parse(resolve(dir)).root)
    throw new SandboxError(`refusing to use a filesystem root as sandbox: ${dir}`);
}

/**
 * Deletes the contents of a real directory (not following symlinks), keeping the directory.
 * Returns true when it was empty already.
 */
function emptyRealDirectory(dir: string): boolean {
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
  return names.length === 0;
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

/**
 * emptySandbox for a path already checked by assertSandboxPath; with `record`, a sandbox whose
 * lstat proves it unchanged since a listing found it empty is not listed again.
 */
function emptyCheckedSandbox(dir: string, record?: EmptyRecord): boolean {
  const stats = ensureRealDirectory(dir);
  if (!stats) {
    record?.forget(dir);
    return true;
  }
  // A chmod changes the ctime: the lstat before it proves nothing afterwards.
  const madeWritable = (stats.mode & 0o700) !== 0o700;
  if (madeWritable) chmodSync(dir, stats.mode | 0o700);
  else if (record?.stillEmpty(dir, stats)) return false;
  const wasEmpty = emptyRealDirectory(dir);
  if (wasEmpty && !madeWritable) record?.foundEmpty(dir, stats);
  else record?.forget(dir);
  return false;
}

/**
 * The sandboxes of one worker process, for the runner's every job: the slot's sandbox and, at
 * concurrency above 1, one sub-directory per lane. Paths are checked and joined once. Before a
 * job, the slot's sandbox is checked to be a real directory (so a job cannot redirect a sibling's
 * path) once per synchronous stretch: the jobs of one pop start together with no handler code in
 * between. Each job's directory is still examined before and after every job: an lstat, and a
 * listing unless the lstat proves it unchanged since a listing found it empty (see the top).
 */
export class JobSandboxes {
  private readonly lanes: string[];
  private slotChecked = false;
  private readonly emptySeen = new EmptyRecord();

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
    if (this.concurrency <= 1) return { dir: this.slot, recreated: emptyCheckedSandbox(this.slot, this.emptySeen) };
    const dir = this.lanes[lane];
    if (dir === undefined) throw new SandboxError(`no sandbox lane ${lane} at concurrency ${this.concurrency}`);
    if (!this.slotChecked) {
      ensureRealDirectory(this.slot);
      this.slotChecked = true;
      queueMicrotask(() => {
        this.slotChecked = false;
      });
    }
    return { dir, recreated: emptyCheckedSandbox(dir, this.emptySeen) };
  }

  /** Empties a directory `prepare` handed out, after its job; true when it was made anew. */
  empty(dir: string): boolean {
    if (dir !== this.slot && !this.lanes.includes(dir)) throw new SandboxError(`not a sandbox of this worker: ${dir}`);
    return emptyCheckedSandbox(dir, this.emptySeen);
  }
}
