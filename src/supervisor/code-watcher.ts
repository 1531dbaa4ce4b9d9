// Watches the handler project (--path) for changes that need fresh worker processes. Ignores
// node_modules, dot-folders (and dot-files: editor swap files) and the sandboxes. A burst of
// events (a save that writes several files) is told twice: at its first event (so the pool stops
// taking jobs with the old code at once) and once it has settled (DEBOUNCE_MS without an event,
// or MAX_BURST_MS after it began, so a file written without pause cannot hold it open forever).
import { isAbsolute, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export const DEBOUNCE_MS = 100;
const MAX_BURST_MS = 1_000;

export class CodeWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private changed = new Set<string>();
  /** When the burst in progress began (performance.now()); undefined between bursts. */
  private burstStartedAt: number | undefined;

  /**
   * @param root the directory to watch
   * @param excluded absolute directories never to look into (the sandboxes)
   * @param onChange called with the changed files (relative to root) once a burst has settled
   * @param onBurst called at the first event of a burst, with its file (relative to root)
   */
  constructor(
    private readonly root: string,
    private readonly excluded: readonly string[],
    private readonly onChange: (files: string[]) => void,
    private readonly onError: (error: unknown) => void,
    private readonly onBurst: (file: string) => void,
  ) {}

  private isIgnored(path: string): boolean {
    for (const dir of this.excluded) {
      const inside = relative(dir, path);
      if (inside === '' || (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside))) return true;
    }
    const rel = relative(this.root, path);
    if (rel === '') return false;
    return rel.split(sep).some((part) => part === 'node_modules' || (part.startsWith('.') && part !== '..'));
  }

  /** Resolves once the initial scan is done, i.e. changes from now on are seen. */
  start(): Promise<void> {
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      ignored: (path: string) => this.isIgnored(path),
    });
    this.watcher.on('all', (event, path) => {
      if (event === 'addDir') return;
      const file = relative(this.root, path);
      this.changed.add(file);
      clearTimeout(this.timer);
      const now = performance.now();
      if (this.burstStartedAt === undefined) {
        this.burstStartedAt = now;
        this.onBurst(file);
      }
      const settleIn = Math.min(DEBOUNCE_MS, this.burstStartedAt + MAX_BURST_MS - now);
      this.timer = setTimeout(() => this.flush(), Math.max(0, settleIn));
    });
    this.watcher.on('error', (error) => this.onError(error));
    const watcher = this.watcher;
    return new Promise((resolve) => watcher.once('ready', () => resolve()));
  }

  private flush(): void {
    this.burstStartedAt = undefined;
    const files = [...this.changed].sort();
    this.changed.clear();
    if (files.length > 0) this.onChange(files);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.burstStartedAt = undefined;
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
