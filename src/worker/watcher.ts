// Watches the handler project (--path) for changes that need fresh worker processes. Ignores
// node_modules, dot-folders (and dot-files: editor swap files) and the sandboxes; a burst of
// events (a save that writes several files) becomes one notification.
import { isAbsolute, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

const DEBOUNCE_MS = 100;

export class CodeWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private changed = new Set<string>();

  /**
   * @param root the directory to watch
   * @param excluded absolute directories never to look into (the sandboxes)
   * @param onChange called with the changed files (relative to root) after a short quiet spell
   */
  constructor(
    private readonly root: string,
    private readonly excluded: readonly string[],
    private readonly onChange: (files: string[]) => void,
    private readonly onError: (error: unknown) => void,
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
      this.changed.add(relative(this.root, path));
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) => this.onError(error));
    const watcher = this.watcher;
    return new Promise((resolve) => watcher.once('ready', () => resolve()));
  }

  private flush(): void {
    const files = [...this.changed].sort();
    this.changed.clear();
    if (files.length > 0) this.onChange(files);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    this.watcher = undefined;
  }
}
