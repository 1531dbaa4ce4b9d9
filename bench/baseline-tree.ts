// Another commit's tree to measure beside the work tree (--baseline): `git archive <commit> | tar -x`
// into a cache directory keyed by the full commit hash, then `npm ci` there, once. A tree is put
// in place (renamed from a private directory) only when both have succeeded, so an interrupted
// build leaves nothing that a later run would take for ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchUsageError } from './options.ts';
import { REPO_ROOT, resolveCommit } from './revision.ts';

const CACHE = join(tmpdir(), 'qless-worker-baseline');

export interface BaselineTree {
  /** Full hash. */
  commit: string;
  short: string;
  root: string;
  /** The tree's own launcher. */
  workerBin: string;
}

function exited(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${what} exited with ${code ?? signal}`)),
    );
  });
}

/** `git archive <commit> | tar -x -C <into>`. */
async function extract(commit: string, into: string): Promise<void> {
  const archive = spawn('git', ['archive', '--format=tar', commit], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tar = spawn('tar', ['-x', '-C', into], { stdio: [archive.stdout, 'inherit', 'inherit'] });
  await Promise.all([exited(archive, `git archive ${commit}`), exited(tar, 'tar -x')]);
}

/** `npm ci` in the tree, its output on the bench's stderr (progress, not report). */
async function install(root: string): Promise<void> {
  const npm = spawn('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 2, 2] });
  await exited(npm, `npm ci in ${root}`);
}

export async function prepareBaselineTree(revision: string, progress: (line: string) => void): Promise<BaselineTree> {
  const resolved = resolveCommit(revision);
  if (!resolved) throw new BenchUsageError(`--baseline ${revision}: not a commit of this repository`);
  const root = join(CACHE, resolved.commit);
  const tree: BaselineTree = { ...resolved, root, workerBin: join(root, 'bin', 'qless-worker') };
  if (existsSync(root)) {
    progress(`baseline ${resolved.short}: tree ready in ${root}`);
    return tree;
  }
  mkdirSync(CACHE, { recursive: true });
  const building = mkdtempSync(join(CACHE, `${resolved.commit}.partial-`));
  try {
    progress(`baseline ${resolved.short}: git archive | tar -x, then npm ci (once; kept in ${root})`);
    await extract(resolved.commit, building);
    if (!existsSync(join(building, 'bin', 'qless-worker')))
      throw new BenchUsageError(`--baseline ${revision}: commit ${resolved.short} has no bin/qless-worker`);
    const started = Date.now();
    await install(building);
    progress(`baseline ${resolved.short}: npm ci took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // Another bench run may have put the same tree in place meanwhile; either copy will do.
    if (!existsSync(root)) renameSync(building, root);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  progress(`baseline ${resolved.short}: tree ready in ${root}`);
  return tree;
}
