// CodeWatcher on a real directory (chokidar, real files): a burst of writes is told at its first
// event and once settled; ignored paths never count; a file written without pause still settles;
// files modified since a given time before the scan reached them count as a change.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEBOUNCE_MS } from '../../src/supervisor/burst.ts';
import { CodeWatcher } from '../../src/supervisor/code-watcher.ts';
import { eventually } from '../helpers/worker.ts';

interface Seen {
  kind: 'burst' | 'change';
  files: string[];
}

let watcher: CodeWatcher | undefined;
let dir: string | undefined;

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function watch(before?: (root: string) => void, since?: number): Promise<{ root: string; seen: Seen[] }> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'qless-watch-')));
  dir = root;
  mkdirSync(join(root, 'sandbox'));
  mkdirSync(join(root, 'node_modules'));
  before?.(root);
  const seen: Seen[] = [];
  watcher = new CodeWatcher(
    root,
    [join(root, 'sandbox')],
    (files) => seen.push({ kind: 'change', files }),
    (error) => assert.fail(`watcher error: ${String(error)}`),
    (file) => seen.push({ kind: 'burst', files: [file] }),
  );
  await watcher.start(since);
  return { root, seen };
}

test('a save of two files: told at the first event, then once with both files after the quiet spell', async () => {
  const { root, seen } = await watch();
  writeFileSync(join(root, 'a.ts'), 'export default 1;\n');
  writeFileSync(join(root, 'b.ts'), 'export default 2;\n');
  await eventually(() => seen.some((each) => each.kind === 'change'), { what: 'the burst settled' });
  assert.equal(seen.length, 2, JSON.stringify(seen));
  assert.equal(seen[0].kind, 'burst');
  assert.ok(['a.ts', 'b.ts'].includes(seen[0].files[0]));
  assert.deepEqual(seen[1], { kind: 'change', files: ['a.ts', 'b.ts'] });
});

test('writes in the sandboxes, node_modules and dot-files are not changes', async () => {
  const { root, seen } = await watch();
  writeFileSync(join(root, 'sandbox', 'out.txt'), 'x');
  writeFileSync(join(root, 'node_modules', 'dep.js'), 'x');
  writeFileSync(join(root, '.handler.ts.swp'), 'x');
  // Then a real change: whatever came before it has been seen (or ignored) by the time it settles.
  await sleep(DEBOUNCE_MS * 3);
  writeFileSync(join(root, 'handler.ts'), 'export default 1;\n');
  await eventually(() => seen.some((each) => each.kind === 'change'), { what: 'the change settled' });
  assert.deepEqual(seen, [
    { kind: 'burst', files: ['handler.ts'] },
    { kind: 'change', files: ['handler.ts'] },
  ]);
});

test('a file written again and again, never quiet for the debounce time, still settles while it goes on', async () => {
  const { root, seen } = await watch();
  const file = join(root, 'busy.ts');
  const writingFor = 2_500;
  const start = performance.now();
  let writes = 0;
  let settledWhileWriting = false;
  while (performance.now() - start < writingFor) {
    writeFileSync(file, `export default ${writes++};\n`);
    await sleep(DEBOUNCE_MS / 4);
    if (seen.some((each) => each.kind === 'change')) settledWhileWriting = true;
  }
  assert.ok(settledWhileWriting, `no settle during ${writes} writes over ${writingFor} ms: ${JSON.stringify(seen)}`);
  // Every settle closes a burst that a burst event opened.
  await eventually(() => seen.at(-1)?.kind === 'change', { what: 'the last burst settled' });
  const kinds = seen.map((each) => each.kind);
  for (let index = 0; index < kinds.length; index += 2)
    assert.deepEqual(kinds.slice(index, index + 2), ['burst', 'change']);
});

test('files modified since a given time, before the scan reached them, count as a change', async () => {
  const since = Date.now();
  const { seen } = await watch((root) => {
    mkdirSync(join(root, 'jobs'));
    writeFileSync(join(root, 'jobs', 'fresh.ts'), 'export default 1;\n');
    writeFileSync(join(root, 'old.ts'), 'export default 2;\n');
    writeFileSync(join(root, 'sandbox', 'fresh-output.txt'), 'x');
    // Modified long before the pool started: not a change.
    const past = new Date(since - 60_000);
    utimesSync(join(root, 'old.ts'), past, past);
  }, since);
  await eventually(() => seen.some((each) => each.kind === 'change'), { what: 'the change settled' });
  assert.deepEqual(seen, [
    { kind: 'burst', files: [join('jobs', 'fresh.ts')] },
    { kind: 'change', files: [join('jobs', 'fresh.ts')] },
  ]);
});
