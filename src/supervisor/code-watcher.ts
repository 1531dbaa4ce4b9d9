// Watches the handler project (--path) for changes that need fresh worker processes. Ignores
// node_modules, dot-folders (and dot-files: editor swap files) and the sandboxes. A burst of
// events is told at its first event and once it has settled (burst.ts). chokidar is loaded only
// when watching starts (never with --no-watch), by import(): Node's ESM loader takes it as it is,
// where tsx's CommonJS hooks would scan and convert each file of it.
import { lstatSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { Burst } from './burst.ts';

/** A file's modification time may trail the clock by a tick of the kernel's coarse clock. */
const CLOCK_TICK_MS = 20;

export class CodeWatcher {
  private watcher: FSWatcher | undefined;
  private readonly burst: Burst;
  private closed = false;

  /**
   * @param root the directory to watch
   * @param excluded absolute directories never to look into (the sandboxes)
   * @param onChange called with the changed files (relative to root) once a burst has settled
   * @param onBurst called at the first event of a burst, with its file (relative to root)
   */
  constructor(
    private readonly root: string,
    private readonly excluded: readonly string[],
    onChange: (files: string[]) => void,
    private readonly onError: (error: unknown) => void,
    onBurst: (file: string) => void,
  ) {
    this.burst = new Burst(onBurst, onChange);
  }

  private isIgnored(path: string): boolean {
    for (const dir of this.excluded) {
      const inside = relative(dir, path);
      if (inside === '' || (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside))) return true;
    }
    const rel = relative(this.root, path);
    if (rel === '') return false;
    return rel.split(sep).some((part) => part === 'node_modules' || (part.startsWith('.') && part !== '..'));
  }

  /**
   * Resolves once the initial scan is done, i.e. changes from now on are seen. With `since` (ms
   * since the epoch), files modified since then, before the scan reached them, count as changes
   * too: the pool can start its workers without waiting for the scan of a large --path.
   */
  async start(since?: number): Promise<void> {
    const { watch } = await import('chokidar');
    if (this.closed) return;
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      ignored: (path: string) => this.isIgnored(path),
    });
    this.watcher.on('all', (event, path) => {
      if (event !== 'addDir') this.burst.add(relative(this.root, path));
    });
    this.watcher.on('error', (error) => this.onError(error));
    const watcher = this.watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    if (since !== undefined && !this.closed)
      for (const file of this.modifiedSince(watcher, since)) this.burst.add(file);
  }

  /** Watched files (relative to root) whose modification time is `since` or later (less a clock tick). */
  private modifiedSince(watcher: FSWatcher, since: number): string[] {
    const found: string[] = [];
    for (const [dir, names] of Object.entries(watcher.getWatched())) {
      for (const name of names) {
        const path = join(dir, name);
        const stats = lstatSync(path, { throwIfNoEntry: false });
        if (stats?.isFile() && stats.mtimeMs >= since - CLOCK_TICK_MS) found.push(relative(this.root, path));
      }
    }
    return found;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.burst.cancel();
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
