// The one-way dependency rule of ARCHITECTURE.md, checked on the imports of every source file,
// and the map itself kept true: every source file of the processes is named in it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|cjs|mjs)$/.test(entry.name) ? [path] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  /** `new URL('…', import.meta.url)`: a file reached by path (e.g. to fork it), not a module import. */
  byPath: boolean;
}

/** Relative imports (static, dynamic, require, new URL(…, import.meta.url)) as src-relative paths. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  const kinds = [
    String.raw`import\s+type\s[^'"]*?from\s*`,
    String.raw`import\s[^'"]*?from\s*`,
    String.raw`export\s[^'"]*?from\s*`,
    String.raw`import\s*\(\s*`,
    String.raw`require\s*\(\s*`,
    String.raw`new URL\(\s*`,
  ];
  const pattern = new RegExp(`(${kinds.join('|')})['"](\\.{1,2}/[^'"]+)['"]`, 'g');
  for (const match of text.matchAll(pattern)) {
    const target = resolve(dirname(file), match[2]);
    found.push({
      from: relative(SRC, file),
      to: relative(SRC, target),
      typeOnly: /^(import|export)\s+type\s/.test(match[1]),
      byPath: match[1].startsWith('new URL'),
    });
  }
  return found;
}

const references = sourceFiles(SRC).flatMap(importsOf);
const imports = references.filter((reference) => !reference.byPath);
const area = (path: string): string => (path.startsWith('..') ? 'outside' : path.split('/')[0]);

/** Which areas each area may import (besides itself and src/log.ts and src/version.ts, which all share). */
const ALLOWED: Record<string, readonly string[]> = {
  cli: ['supervisor', 'web', 'protocol', 'client', 'outside'],
  supervisor: ['protocol', 'client', 'outside'],
  worker: ['protocol', 'client', 'outside'],
  protocol: [],
  client: ['lua', 'outside'],
  web: ['client', 'protocol', 'outside'],
  launch: [],
};

/** The worker's fork entry runs the worker through the launcher (bin/qless-worker does the same). */
const LAUNCHED = 'worker/worker-entry.cjs → launch/launch.cjs';

test('imports point one way: cli → supervisor, web → protocol, client; worker → protocol, client; client → lua', () => {
  const wrong = imports.filter(({ from, to }) => {
    const source = area(from);
    const target = area(to);
    const shared = to === 'log.ts' || to === 'version.ts' || to === 'index.ts';
    if (target === source || shared || source === 'index.ts' || `${from} → ${to}` === LAUNCHED) return false;
    if (source === 'log.ts') return true;
    if (target === 'outside') return !to.startsWith('../package.json') && !to.startsWith('../node_modules');
    return !(ALLOWED[source] ?? []).includes(target);
  });
  assert.deepEqual(
    wrong.map(({ from, to }) => `${from} → ${to}`),
    [],
  );
});

test('nothing imports src/cli/ from outside it; src/protocol/ imports nothing but types', () => {
  assert.deepEqual(
    imports.filter(({ from, to }) => area(to) === 'cli' && area(from) !== 'cli').map(({ from }) => from),
    [],
  );
  assert.deepEqual(
    imports
      .filter(({ from, to, typeOnly }) => area(from) === 'protocol' && area(to) !== 'protocol' && !typeOnly)
      .map(({ from, to }) => `${from} → ${to}`),
    [],
  );
});

test('the supervisor reaches the worker only by path (the fork entry), never by import', () => {
  const toWorker = references.filter(({ from, to }) => area(from) === 'supervisor' && area(to) === 'worker');
  assert.deepEqual(
    toWorker.map(({ from, to, byPath }) => `${from} → ${to}${byPath ? ' (by path)' : ''}`),
    ['supervisor/worker-launch.ts → worker/worker-entry.cjs (by path)'],
  );
});

test('only the fork entry of the worker imports the launcher; the launcher imports nothing of ours', () => {
  assert.deepEqual(
    imports
      .filter(({ from, to }) => (area(from) === 'launch') !== (area(to) === 'launch'))
      .map(({ from, to }) => `${from} → ${to}`),
    [LAUNCHED],
  );
});

test("the launcher's own files: spares.cjs asks launch.cjs whether the workers' bundle exists", () => {
  assert.deepEqual(
    imports
      .filter(({ from, to }) => area(from) === 'launch' && area(to) === 'launch')
      .map(({ from, to }) => `${from} → ${to}`),
    ['launch/spares.cjs → launch/launch.cjs'],
  );
});

test('ARCHITECTURE.md names every source file of the supervisor, the worker, the protocol and the launcher', () => {
  const map = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const unnamed = ['supervisor', 'worker', 'protocol', 'launch']
    .flatMap((dir) => sourceFiles(join(SRC, dir)))
    .map((file) => basename(file))
    .filter((name) => name !== 'worker-entry.cjs' || !map.includes('worker-entry.cjs'))
    .filter((name) => !map.includes(`\`${name}\``) && !map.includes(`/${name}\``) && !map.includes(`${name}\``));
  assert.deepEqual(unnamed, []);
});
