// Sandbox emptying on a real filesystem: whatever a job leaves inside is removed, nothing outside
// is ever touched (symlinks to files and directories outside, a sandbox replaced by a symlink).
// A sandbox proven unchanged since a listing found it empty is not listed again (counted through a
// spy on fs.readdirSync), and whatever changed it since is still found.
import { describe, test, beforeEach, afterEach, mock } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptySandbox, JobSandboxes, SandboxError } from '../../src/worker/job/sandbox.ts';

let base: string;
let sandbox: string;
let outside: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'qless-sandbox-'));
  sandbox = join(base, 'sandbox', 'worker-0');
  outside = join(base, 'outside');
  mkdirSync(join(outside, 'dir'), { recursive: true });
  writeFileSync(join(outside, 'keep.txt'), 'keep');
  writeFileSync(join(outside, 'dir', 'keep-too.txt'), 'keep');
});

afterEach(() => {
  chmodSync(base, 0o700);
  rmSync(base, { recursive: true, force: true });
});

/** How many times fs.readdirSync runs during `action` (the named import in sandbox.ts included). */
function listings(action: () => void): number {
  const spy = mock.method(fs, 'readdirSync');
  syncBuiltinESMExports();
  try {
    action();
    return spy.mock.callCount();
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
}

/** Lets the sandbox's ctime age past what a later change could share with it. */
const AGE_MS = 80;

function assertOutsideIntact(): void {
  assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep');
  assert.equal(readFileSync(join(outside, 'dir', 'keep-too.txt'), 'utf8'), 'keep');
}

describe('emptySandbox', () => {
  test('creates a missing sandbox (with parents)', () => {
    emptySandbox(sandbox);
    assert.ok(lstatSync(sandbox).isDirectory());
    assert.deepEqual(readdirSync(sandbox), []);
  });

  test('removes files, nested directories, dotfiles and read-only leftovers', () => {
    mkdirSync(join(sandbox, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(sandbox, 'a', 'b', 'c', 'deep.txt'), 'x');
    writeFileSync(join(sandbox, '.hidden'), 'x');
    mkdirSync(join(sandbox, 'locked'));
    writeFileSync(join(sandbox, 'locked', 'inside.txt'), 'x');
    chmodSync(join(sandbox, 'locked'), 0o500);
    emptySandbox(sandbox);
    assert.deepEqual(readdirSync(sandbox), []);
  });

  test('symlinks to files and directories outside are removed as links; their targets stay', () => {
    mkdirSync(sandbox, { recursive: true });
    symlinkSync(join(outside, 'keep.txt'), join(sandbox, 'file-link'));
    symlinkSync(join(outside, 'dir'), join(sandbox, 'dir-link'));
    mkdirSync(join(sandbox, 'sub'));
    symlinkSync(outside, join(sandbox, 'sub', 'up-link'));
    symlinkSync('/', join(sandbox, 'root-link'));
    symlinkSync(join(base, 'missing'), join(sandbox, 'dangling'));
    emptySandbox(sandbox);
    assert.deepEqual(readdirSync(sandbox), []);
    assertOutsideIntact();
  });

  test('a sandbox replaced by a symlink to elsewhere is replaced by a fresh directory; the target is untouched', () => {
    mkdirSync(join(base, 'sandbox'), { recursive: true });
    symlinkSync(outside, sandbox);
    emptySandbox(sandbox);
    assert.ok(lstatSync(sandbox).isDirectory());
    assert.ok(!lstatSync(sandbox).isSymbolicLink());
    assert.deepEqual(readdirSync(sandbox), []);
    assertOutsideIntact();
  });

  test('a sandbox the job made unreadable is emptied anyway', () => {
    mkdirSync(sandbox, { recursive: true });
    writeFileSync(join(sandbox, 'x'), 'x');
    chmodSync(sandbox, 0o000);
    emptySandbox(sandbox);
    assert.deepEqual(readdirSync(sandbox), []);
  });

  test('relative paths and a filesystem root are refused', () => {
    assert.throws(() => emptySandbox('relative/dir'), SandboxError);
    assert.throws(() => emptySandbox('/'), SandboxError);
  });
});

describe("JobSandboxes (the runner's per-job sandboxes)", () => {
  test('concurrency 1: the slot sandbox, emptied before and after', () => {
    const sandboxes = new JobSandboxes(sandbox, 1);
    mkdirSync(sandbox, { recursive: true });
    writeFileSync(join(sandbox, 'left-over'), 'x');
    const { dir } = sandboxes.prepare(0);
    assert.equal(dir, sandbox);
    assert.deepEqual(readdirSync(sandbox), []);
    writeFileSync(join(sandbox, 'made-by-the-job'), 'x');
    assert.equal(sandboxes.empty(dir), false);
    assert.deepEqual(readdirSync(sandbox), []);
  });

  test('lanes: each its own directory, emptied before and after its job, the others left alone', () => {
    const sandboxes = new JobSandboxes(sandbox, 3);
    const lane0 = sandboxes.prepare(0).dir;
    const lane1 = sandboxes.prepare(1).dir;
    const lane2 = sandboxes.prepare(2).dir;
    assert.equal(lane0, join(sandbox, 'job-0'));
    assert.equal(lane1, join(sandbox, 'job-1'));
    assert.equal(lane2, join(sandbox, 'job-2'));
    writeFileSync(join(lane0, 'zero'), 'x');
    writeFileSync(join(lane1, 'one'), 'x');
    writeFileSync(join(lane2, 'two'), 'x');
    sandboxes.empty(lane0);
    assert.deepEqual(readdirSync(lane0), []);
    assert.deepEqual(readdirSync(lane2), ['two']);
    assert.deepEqual(readdirSync(sandboxes.prepare(2).dir), []);
    // Preparing a lane again empties it and only it.
    writeFileSync(join(lane0, 'zero'), 'x');
    assert.equal(sandboxes.prepare(0).dir, lane0);
    assert.deepEqual(readdirSync(lane0), []);
    assert.deepEqual(readdirSync(lane1), ['one']);
  });

  test('a lane directory replaced by a symlink does not lead outside', () => {
    const sandboxes = new JobSandboxes(sandbox, 2);
    const lane = sandboxes.prepare(1).dir;
    rmdirSync(lane);
    symlinkSync(outside, lane);
    const again = sandboxes.prepare(1);
    assert.equal(again.dir, lane);
    assert.equal(again.recreated, true);
    assert.ok(!lstatSync(lane).isSymbolicLink());
    assert.deepEqual(readdirSync(lane), []);
    assertOutsideIntact();
    assert.ok(existsSync(join(outside, 'keep.txt')));
  });

  test('a slot sandbox replaced by a symlink (by a job, between turns) is caught before the next job', async () => {
    const sandboxes = new JobSandboxes(sandbox, 2);
    sandboxes.prepare(0);
    // A job's code runs in a later turn: it swaps the slot for a link to outside, with a lane there.
    await Promise.resolve();
    rmSync(sandbox, { recursive: true });
    mkdirSync(join(outside, 'job-1'));
    writeFileSync(join(outside, 'job-1', 'victim.txt'), 'keep');
    symlinkSync(outside, sandbox);
    const { dir } = sandboxes.prepare(1);
    assert.ok(!lstatSync(sandbox).isSymbolicLink());
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(readFileSync(join(outside, 'job-1', 'victim.txt'), 'utf8'), 'keep');
    assertOutsideIntact();
  });

  test('an empty sandbox unchanged since it was listed is not listed again; a file made since is found', async () => {
    const sandboxes = new JobSandboxes(sandbox, 1);
    const { dir } = sandboxes.prepare(0);
    await sleep(AGE_MS);
    assert.equal(
      listings(() => sandboxes.empty(dir)),
      1,
      'a fresh ctime proves nothing: listed',
    );
    assert.equal(
      listings(() => sandboxes.prepare(0)),
      0,
      'unchanged since found empty: not listed',
    );
    assert.equal(
      listings(() => sandboxes.empty(dir)),
      0,
    );
    // Made right after the listing, within the same clock tick as nothing else: still found.
    writeFileSync(join(dir, 'made-by-the-job'), 'x');
    assert.equal(
      listings(() => sandboxes.empty(dir)),
      1,
    );
    assert.deepEqual(readdirSync(dir), []);
    // Emptying changed the ctime again: listed until it is old enough to prove anything.
    assert.equal(
      listings(() => sandboxes.prepare(0)),
      1,
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a lane removed and made again, or made unreadable, is listed and emptied', async () => {
    const sandboxes = new JobSandboxes(sandbox, 2);
    const lane = sandboxes.prepare(1).dir;
    await sleep(AGE_MS);
    sandboxes.empty(lane);
    assert.equal(
      listings(() => sandboxes.prepare(1)),
      0,
    );
    // A job replaces its directory with a new one (the inode number may even be reused).
    rmdirSync(lane);
    mkdirSync(lane);
    writeFileSync(join(lane, 'inside-the-new-one'), 'x');
    sandboxes.empty(lane);
    assert.deepEqual(readdirSync(lane), []);
    await sleep(AGE_MS);
    sandboxes.empty(lane);
    writeFileSync(join(lane, 'hidden'), 'x');
    chmodSync(lane, 0o300);
    sandboxes.empty(lane);
    assert.deepEqual(readdirSync(lane), []);
  });

  test('only its own directories are emptied; bad paths and lanes are refused', () => {
    const sandboxes = new JobSandboxes(sandbox, 2);
    assert.throws(() => sandboxes.empty(outside), SandboxError);
    assert.throws(() => sandboxes.prepare(2), SandboxError);
    assert.throws(() => new JobSandboxes('relative/dir', 2), SandboxError);
    assert.throws(() => new JobSandboxes('/', 1), SandboxError);
    assertOutsideIntact();
  });
});
