// klass → handler resolution against a real fixture project on disk: module forms, export forms,
// and every refusal (missing module, missing method, klass that would leave --path).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HandlerResolutionError, loadHandler, parseKlass } from '../../src/worker/handler/resolve.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/handlers/resolve', import.meta.url));

async function run(root: string, klass: string, queue = 'q', job: unknown = { data: { n: 1 } }): Promise<unknown> {
  const handler = await loadHandler(root, klass, queue);
  return await handler(job);
}

async function refusal(root: string, klass: string, queue = 'q'): Promise<HandlerResolutionError> {
  try {
    await loadHandler(root, klass, queue);
  } catch (error) {
    assert.ok(error instanceof HandlerResolutionError, `expected a HandlerResolutionError, got ${String(error)}`);
    return error;
  }
  assert.fail(`klass ${klass} resolved, but should have been refused`);
}

describe('klass → module', () => {
  test('a klass without a dot takes the default export of <path>/<klass>.ts', async () => {
    assert.deepEqual(await run(FIXTURE, 'countdown'), { module: 'countdown.ts', n: 1 });
  });
  test('a.b.Name takes export Name of <path>/a/b', async () => {
    assert.deepEqual(await run(FIXTURE, 'nested.deep.Named'), { module: 'nested/deep.ts', export: 'Named' });
  });
  test('a directory module resolves through index.*', async () => {
    assert.deepEqual(await run(FIXTURE, 'pkg.Thing'), { module: 'pkg/index.mts' });
    assert.deepEqual(await run(FIXTURE, 'jsdir'), { module: 'jsdir/index.cjs' });
  });
  test('.js, .mjs and .cjs modules load too', async () => {
    assert.deepEqual(await run(FIXTURE, 'plain.Plain'), { module: 'plain.js' });
    assert.deepEqual(await run(FIXTURE, 'esm'), { module: 'esm.mjs' });
    assert.deepEqual(await run(FIXTURE, 'common.Common'), { module: 'common.cjs' });
  });
});

describe('export forms', () => {
  test('an object method named after the queue wins over process', async () => {
    assert.deepEqual(await run(FIXTURE, 'forms.ByQueue', 'images'), { form: 'object', method: 'images' });
    assert.deepEqual(await run(FIXTURE, 'forms.ByQueue', 'other'), { form: 'object', method: 'process' });
  });
  test('process wins over perform; perform is the last resort', async () => {
    assert.deepEqual(await run(FIXTURE, 'forms.ByProcess'), { form: 'object', method: 'process' });
    assert.deepEqual(await run(FIXTURE, 'forms.ByPerform'), { form: 'object', method: 'perform' });
  });
  test('a class with a static method, or an instance method (called on a fresh instance)', async () => {
    assert.deepEqual(await run(FIXTURE, 'forms.StaticClass'), { form: 'class', method: 'static process' });
    assert.deepEqual(await run(FIXTURE, 'forms.InstanceClass'), { form: 'class', method: 'instance perform' });
  });
  test('an export without a usable method, a non-function, or a missing export is method-missing', async () => {
    assert.equal((await refusal(FIXTURE, 'forms.NoMethod')).group, 'method-missing');
    assert.equal((await refusal(FIXTURE, 'forms.NotAFunction')).group, 'method-missing');
    assert.equal((await refusal(FIXTURE, 'forms.Absent')).group, 'method-missing');
  });
});

describe('refusals', () => {
  let project: string;
  let outside: string;

  before(() => {
    // A copy of the fixture with the hostile shapes added: symlinks out of the tree, node_modules.
    project = mkdtempSync(join(tmpdir(), 'qless-handlers-'));
    outside = mkdtempSync(join(tmpdir(), 'qless-handlers-outside-'));
    cpSync(FIXTURE, project, { recursive: true });
    writeFileSync(join(outside, 'escape.mjs'), 'export default () => "escaped";\n');
    mkdirSync(join(outside, 'dir'));
    writeFileSync(join(outside, 'dir', 'inner.mjs'), 'export const Inner = () => "escaped";\n');
    symlinkSync(join(outside, 'escape.mjs'), join(project, 'escape.mjs'));
    symlinkSync(join(outside, 'dir'), join(project, 'linked'));
    symlinkSync(join(project, 'esm.mjs'), join(project, 'alias.mjs'));
    mkdirSync(join(project, 'node_modules', 'hidden'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'hidden', 'index.mjs'), 'export const Hidden = () => "hidden";\n');
    mkdirSync(join(project, 'vendor'));
    symlinkSync(join(project, 'node_modules', 'hidden'), join(project, 'vendor', 'hidden'));
  });
  after(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('a module that does not exist is ModuleNotFound', async () => {
    assert.equal((await refusal(FIXTURE, 'nope')).group, 'ModuleNotFound');
    assert.equal((await refusal(FIXTURE, 'nested.missing.Name')).group, 'ModuleNotFound');
  });
  test('a module whose own import is missing is ModuleNotFound too', async () => {
    assert.equal((await refusal(FIXTURE, 'needs-missing')).group, 'ModuleNotFound');
  });
  test('a module with a syntax error rejects with its own error (SyntaxError)', async () => {
    await assert.rejects(loadHandler(FIXTURE, 'broken', 'q'), (error: Error) => error.name === 'SyntaxError');
  });
  test('absolute paths, "..", separators and node_modules are InvalidKlass before touching the disk', async () => {
    for (const klass of [
      '/etc/passwd',
      '..',
      '...x',
      'a..b',
      '.hidden',
      'x.',
      'a/../../etc.X',
      'node_modules.hidden.Hidden',
      'a\\b',
      '',
    ]) {
      assert.throws(
        () => parseKlass(klass),
        (error: HandlerResolutionError) => error.group === 'InvalidKlass',
        klass,
      );
      assert.equal((await refusal(project, klass)).group, 'InvalidKlass', klass);
    }
  });
  test('a symlink that leaves the tree is InvalidKlass, one that stays inside is fine', async () => {
    assert.equal((await refusal(project, 'escape')).group, 'InvalidKlass');
    assert.equal((await refusal(project, 'linked.inner.Inner')).group, 'InvalidKlass');
    assert.equal((await refusal(project, 'vendor.hidden.Hidden')).group, 'InvalidKlass', 'a link into node_modules');
    assert.deepEqual(await run(project, 'alias'), { module: 'esm.mjs' });
  });
});
