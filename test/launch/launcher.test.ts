// src/launch/launch.cjs with real processes: on a small project of its own (a copy of the launcher,
// two entries of a few lines, tsx and esbuild from our node_modules) where the sources, the cache
// directory and the environment can be changed freely, and on the real bin/qless-worker. What a
// process did is read from the launcher's debug lines (NODE_DEBUG=qless-worker).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childEnv } from '../helpers/child-env.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER_BIN = join(ROOT, 'bin', 'qless-worker');
const scratch = mkdtempSync(join(tmpdir(), 'qless-launch-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** What one started process printed and what the launcher said it did. */
interface Outcome {
  status: number | null;
  report: Report | undefined;
  stdout: string;
  stderr: string;
  /** `from <bundle file>`, or undefined when it did not run from a bundle. */
  bundle: string | undefined;
  built: boolean;
  /** The launcher's reason for loading the sources through tsx, if it did. */
  throughTsx: string | undefined;
}

/** What the fake supervisor entry reports about itself. */
interface Report {
  marker: string;
  url: string;
  lazyBefore: boolean;
  lazy: string;
  lazyAfter: boolean;
  lua: string;
}

function outcome(status: number | null, stdout: string, stderr: string): Outcome {
  const line = (pattern: RegExp): RegExpMatchArray | null => stderr.match(pattern);
  const reportLine = stdout.split('\n').find((text) => text.startsWith('{'));
  return {
    status,
    report: reportLine ? (JSON.parse(reportLine) as Report) : undefined,
    stdout,
    stderr,
    bundle: line(/^QLESS-WORKER \d+: \w+ from (.+)$/m)?.[1],
    built: line(/^QLESS-WORKER \d+: built 2 bundles in /m) !== null,
    throughTsx: line(/^QLESS-WORKER \d+: .+ through tsx: (.+)$/m)?.[1],
  };
}

/** A project of its own: the real launcher, fake entries, tsx and esbuild linked from ours. */
class Project {
  readonly root: string;
  /** Where its packages are: its own node_modules, or (installed) the one it is in. */
  readonly nodeModules: string;

  /** @param installed laid out as a package installed in another project's node_modules */
  constructor(name: string, installed = false) {
    this.root = installed ? join(scratch, name, 'node_modules', 'qless-worker') : join(scratch, name);
    this.nodeModules = installed ? join(scratch, name, 'node_modules') : join(this.root, 'node_modules');
    mkdirSync(join(this.root, 'src', 'launch'), { recursive: true });
    mkdirSync(join(this.root, 'src', 'cli'));
    mkdirSync(join(this.root, 'src', 'worker'));
    mkdirSync(join(this.root, 'src', 'lua'));
    mkdirSync(this.nodeModules, { recursive: true });
    for (const file of ['launch.cjs', 'build.mjs']) {
      copyFileSync(join(ROOT, 'src', 'launch', file), join(this.root, 'src', 'launch', file));
    }
    for (const dependency of ['tsx', 'esbuild']) {
      symlinkSync(join(ROOT, 'node_modules', dependency), join(this.nodeModules, dependency));
    }
    writeFileSync(join(this.root, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(this.root, 'src', 'lua', 'script.lua'), 'return 1\n');
    this.write(
      'src/cli/lazy.ts',
      `(globalThis as { lazyRan?: boolean }).lazyRan = true;\nexport const lazy: string = 'lazy';\n`,
    );
    this.writeSupervisor('first');
    this.write('src/worker/process.ts', `const text: string = 'worker ran';\nconsole.log(text);\n`);
  }

  write(path: string, text: string): void {
    writeFileSync(join(this.root, path), text);
  }

  /** The supervisor's entry: its marker, its own URL, a module required only when asked for, a file beside it. */
  writeSupervisor(marker: string): void {
    this.write(
      'src/cli/worker.ts',
      `import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const ran = (): boolean => (globalThis as { lazyRan?: boolean }).lazyRan === true;
export function report(): string {
  const lazyBefore = ran();
  const { lazy } = createRequire(import.meta.url)('./lazy.ts') as { lazy: string };
  const lua = readFileSync(new URL('../lua/script.lua', import.meta.url), 'utf8').trim();
  return JSON.stringify({ marker: '${marker}', url: import.meta.url, lazyBefore, lazy, lazyAfter: ran(), lua });
}
`,
    );
  }

  get defaultCache(): string {
    return join(this.nodeModules, '.cache', 'qless-worker');
  }

  private script(name: 'supervisor' | 'worker'): string {
    const launcher = JSON.stringify(join(this.root, 'src', 'launch', 'launch.cjs'));
    const use = name === 'supervisor' ? 'console.log(loaded.report())' : '';
    return `const loaded = require(${launcher}).load('${name}'); ${use}`;
  }

  private env(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
    return childEnv({ NODE_DEBUG: 'qless-worker', QLESS_WORKER_NO_BUNDLE: undefined, ...extra });
  }

  /** Starts one process through the launcher and waits for it. */
  run(extra: Record<string, string | undefined> = {}, name: 'supervisor' | 'worker' = 'supervisor'): Outcome {
    const result = spawnSync(process.execPath, ['-e', this.script(name)], {
      env: this.env(extra),
      encoding: 'utf8',
      timeout: 120_000,
    });
    return outcome(result.status, result.stdout, result.stderr);
  }

  /** The same, asynchronously (to start several at once). */
  start(extra: Record<string, string | undefined> = {}): Promise<Outcome> {
    const child = spawn(process.execPath, ['-e', this.script('supervisor')], { env: this.env(extra) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    return new Promise((resolve) => child.on('close', (status) => resolve(outcome(status, stdout, stderr))));
  }
}

function bundlesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A report of the supervisor's entry loaded from `project` with `marker`. */
function expectedReport(project: Project, marker: string): Report {
  const url = pathToFileURL(join(project.root, 'src', 'cli', 'worker.ts')).href;
  return { marker, url, lazyBefore: false, lazy: 'lazy', lazyAfter: true, lua: 'return 1' };
}

describe('a project of its own', () => {
  test('builds both bundles once, then loads them from the cache; the sources keep their meaning', () => {
    const project = new Project('cache-hit');
    const first = project.run();
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.built, true, first.stderr);
    assert.equal(first.throughTsx, undefined);
    assert.ok(first.bundle?.startsWith(project.defaultCache), first.stderr);
    assert.deepEqual(first.report, expectedReport(project, 'first'));
    const files = bundlesIn(project.defaultCache);
    assert.equal(files.filter((file) => file.endsWith('.cjs')).length, 2, files.join(', '));
    assert.equal(files.filter((file) => file.startsWith('.build-')).length, 0, files.join(', '));

    const second = project.run();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.built, false, second.stderr);
    assert.equal(second.bundle, first.bundle);
    assert.deepEqual(second.report, expectedReport(project, 'first'));

    const worker = project.run({}, 'worker');
    assert.equal(worker.status, 0, worker.stderr);
    assert.equal(worker.built, false, worker.stderr);
    assert.match(worker.bundle ?? '', /worker-[^/]+\.cjs$/);
    assert.equal(worker.stdout, 'worker ran\n');
  });

  test('the bundles are ASCII (comments escaped), and strings keep every character', () => {
    const project = new Project('ascii');
    const text = 'worker ran … → 5 µs';
    // esbuild keeps a comment like this one as written; V8 would then hold the source as two-byte text.
    project.write(
      'src/worker/process.ts',
      [
        'class Lane {',
        '  /** Runs in lane 0 … n \u2192 prints. */',
        '  run(): void {',
        `    const text: string = '${text}';`,
        '    console.log(text);',
        '  }',
        '}',
        'new Lane().run();',
        '',
      ].join('\n'),
    );
    const worker = project.run({}, 'worker');
    assert.equal(worker.status, 0, worker.stderr);
    assert.equal(worker.stdout, `${text}\n`);
    const bundle = readFileSync(worker.bundle ?? '', 'utf8');
    assert.match(bundle, /Runs in lane 0 \\u2026 n/);
    assert.doesNotMatch(bundle, /[\u0080-\uffff]/);
  });

  test('an edited source is bundled again at the next start, and the old bundles go after a minute', () => {
    const project = new Project('rebuild');
    const first = project.run();
    assert.equal(first.built, true, first.stderr);
    const old = bundlesIn(project.defaultCache);
    const minutesAgo = new Date(Date.now() - 120_000);
    for (const file of old) utimesSync(join(project.defaultCache, file), minutesAgo, minutesAgo);

    project.writeSupervisor('second');
    const second = project.run();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.built, true, second.stderr);
    assert.notEqual(second.bundle, first.bundle);
    assert.deepEqual(second.report, expectedReport(project, 'second'));
    const now = bundlesIn(project.defaultCache);
    assert.deepEqual(
      now.filter((file) => old.includes(file)),
      [],
    );
    assert.equal(now.length, 4, now.join(', ')); // two bundles and their source maps
  });

  test('a package installed, upgraded or removed is bundled again at the next start', () => {
    const project = new Project('packages');
    const first = project.run();
    assert.equal(first.built, true, first.stderr);
    mkdirSync(join(project.nodeModules, 'some-package'));
    const second = project.run();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.built, true, second.stderr);
    assert.notEqual(second.bundle, first.bundle);
    const third = project.run();
    assert.equal(third.built, false, third.stderr);
    assert.equal(third.bundle, second.bundle);
  });

  test("installed in another project, the bundles go to that project's node_modules/.cache", () => {
    const project = new Project('installed', true);
    const first = project.run();
    assert.equal(first.status, 0, first.stderr);
    assert.ok(first.bundle?.startsWith(join(scratch, 'installed', 'node_modules', '.cache', 'qless-worker')));
    assert.deepEqual(first.report, expectedReport(project, 'first'));
    const second = project.run();
    assert.equal(second.built, false, second.stderr);
    assert.equal(second.bundle, first.bundle);
  });

  test('processes that start at once with no bundle each end up with a whole one', async () => {
    const project = new Project('concurrent');
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => project.start()));
    for (const each of outcomes) {
      assert.equal(each.status, 0, each.stderr);
      assert.equal(each.throughTsx, undefined, each.stderr);
      assert.deepEqual(each.report, expectedReport(project, 'first'));
    }
    assert.ok(
      outcomes.some((each) => each.built),
      'one of them built',
    );
    const files = bundlesIn(project.defaultCache);
    assert.equal(files.length, 4, files.join(', '));
  });

  test('with node_modules read-only the bundle goes to the temporary directory', () => {
    const project = new Project('tmpdir');
    // root may write anywhere: a file where the cache directory would go makes it unwritable for all.
    writeFileSync(join(project.nodeModules, '.cache'), '');
    const temp = join(scratch, 'tmpdir-home');
    mkdirSync(temp);
    const result = project.run({ TMPDIR: temp });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.bundle?.startsWith(join(temp, 'qless-worker-')), result.stderr);
    assert.deepEqual(result.report, expectedReport(project, 'first'));
  });

  test('QLESS_WORKER_CACHE_DIR is the one cache directory; unwritable, the sources load through tsx', () => {
    const project = new Project('cache-dir');
    const chosen = join(scratch, 'chosen-cache');
    const used = project.run({ QLESS_WORKER_CACHE_DIR: chosen });
    assert.equal(used.status, 0, used.stderr);
    assert.ok(used.bundle?.startsWith(chosen), used.stderr);
    assert.deepEqual(used.report, expectedReport(project, 'first'));
    assert.deepEqual(bundlesIn(project.defaultCache), []);

    const aFile = join(scratch, 'a-file');
    writeFileSync(aFile, '');
    const unwritable = project.run({ QLESS_WORKER_CACHE_DIR: join(aFile, 'cache') });
    assert.equal(unwritable.status, 0, unwritable.stderr);
    assert.equal(unwritable.bundle, undefined);
    assert.match(unwritable.throughTsx ?? '', /no cache directory is writable/);
    assert.equal(unwritable.stderr.match(/^QLESS-WORKER /gm)?.length, 1, unwritable.stderr);
    assert.deepEqual(unwritable.report, expectedReport(project, 'first'));
  });

  test('a build that fails (a package esbuild cannot find) falls back to tsx, which runs what it can', () => {
    const project = new Project('build-fails');
    project.write(
      'src/cli/worker.ts',
      `export function never(): unknown {\n  return require('no-such-package-anywhere');\n}\n${readSource(project)}`,
    );
    const result = project.run();
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.bundle, undefined);
    assert.match(result.throughTsx ?? '', /building the bundle failed: .*no-such-package-anywhere/);
    assert.deepEqual(result.report, expectedReport(project, 'first'));
    assert.deepEqual(
      bundlesIn(project.defaultCache).filter((file) => file.endsWith('.cjs')),
      [],
    );
  });

  test('QLESS_WORKER_NO_BUNDLE=1 loads the sources through tsx and builds nothing', () => {
    const project = new Project('no-bundle');
    const result = project.run({ QLESS_WORKER_NO_BUNDLE: '1' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.bundle, undefined);
    assert.equal(result.built, false);
    assert.match(result.throughTsx ?? '', /QLESS_WORKER_NO_BUNDLE/);
    assert.deepEqual(result.report, expectedReport(project, 'first'));
    assert.deepEqual(bundlesIn(project.defaultCache), []);
  });
});

function readSource(project: Project): string {
  return readFileSync(join(project.root, 'src', 'cli', 'worker.ts'), 'utf8');
}

describe('bin/qless-worker', () => {
  const cache = join(scratch, 'real-cache');
  const version = (extra: Record<string, string | undefined>): Outcome => {
    const result = spawnSync(process.execPath, [WORKER_BIN, '--version'], {
      env: childEnv({ NODE_DEBUG: 'qless-worker', QLESS_WORKER_CACHE_DIR: cache, ...extra }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    return outcome(result.status, result.stdout, result.stderr);
  };

  test('runs from its bundle (built on first use), or through tsx with QLESS_WORKER_NO_BUNDLE=1', () => {
    const first = version({});
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.built, true, first.stderr);
    assert.ok(first.bundle?.startsWith(cache), first.stderr);
    assert.match(first.stdout, /^\d+\.\d+\.\d+/);

    const again = version({});
    assert.equal(again.built, false, again.stderr);
    assert.equal(again.bundle, first.bundle);
    assert.equal(again.stdout, first.stdout);

    const sources = version({ QLESS_WORKER_NO_BUNDLE: '1' });
    assert.equal(sources.status, 0, sources.stderr);
    assert.equal(sources.bundle, undefined);
    assert.match(sources.throughTsx ?? '', /QLESS_WORKER_NO_BUNDLE/);
    assert.equal(sources.stdout, first.stdout);
  });
});
