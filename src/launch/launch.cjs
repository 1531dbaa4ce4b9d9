// Starts bin/qless-worker's processes (the supervisor and each worker) from a bundle of their
// modules: one CommonJS file built by esbuild (build.mjs) and cached, which loads in less than half
// the CPU time and several MB less memory than the same modules compiled one by one through tsx's
// hooks. Plain JavaScript, because it runs before any TypeScript machinery. The cache key covers
// every file under src/, what says which packages are installed, tsconfig.json, the install's path
// and Node's version, so an edit anywhere in src/ takes effect at the next start, with no build
// step to remember. Falls back to tsx's CommonJS hooks (the sources as they are) when
// QLESS_WORKER_NO_BUNDLE is set or when anything about the bundle fails (NODE_DEBUG=qless-worker
// prints which way it went).
'use strict';
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { tmpdir } = require('node:os');
const { basename, dirname, join } = require('node:path');
const debug = require('node:util').debuglog('qless-worker');

const ROOT = join(__dirname, '..', '..');
/** Where our packages are: ours in a checkout (or a global install), else the one we are installed in. */
const NODE_MODULES =
  !fs.existsSync(join(ROOT, 'node_modules')) && basename(dirname(ROOT)) === 'node_modules'
    ? dirname(ROOT)
    : join(ROOT, 'node_modules');
/** The bundles, each with its entry module; one build makes all of them. */
const ENTRIES = { supervisor: 'src/cli/worker.ts', worker: 'src/worker/process.ts' };
/**
 * Besides src/, what changes what a build makes: our package.json, lockfile and tsconfig.json, and
 * which packages are installed: the node_modules folder itself (a package installed, upgraded or
 * removed changes its entries) and the package managers' own records of it (npm, pnpm, yarn).
 */
const INPUTS = [
  join(ROOT, 'package.json'),
  join(ROOT, 'package-lock.json'),
  join(ROOT, 'tsconfig.json'),
  NODE_MODULES,
  ...['.package-lock.json', '.modules.yaml', '.yarn-state.yml', '.yarn-integrity'].map((file) =>
    join(NODE_MODULES, file),
  ),
];
const DEFAULT_CACHE = join(NODE_MODULES, '.cache', 'qless-worker');

/** Whether an on/off environment variable is on: set, and neither `0` nor `false`. */
function switchedOn(value) {
  return Boolean(value) && value !== '0' && value !== 'false';
}

/** Loads the module of one process (a name of ENTRIES) and returns its exports. */
function load(name) {
  const entry = join(ROOT, ENTRIES[name]);
  if (switchedOn(process.env.QLESS_WORKER_NO_BUNDLE)) return fromSources(entry, 'QLESS_WORKER_NO_BUNDLE is set');
  let bundle;
  try {
    bundle = findOrBuild(name);
  } catch (error) {
    return fromSources(entry, error instanceof Error ? error.message : String(error));
  }
  debug('%s from %s', name, bundle);
  return require(bundle);
}

/** Today's way without a bundle: every module compiled by tsx on first load. */
function fromSources(entry, reason) {
  debug('%s through tsx: %s', entry, reason);
  require('tsx/cjs/api').register();
  return require(entry);
}

/** Names this install's bundles apart from other installs' in a shared cache directory. */
const PREFIX = `${createHash('sha256').update(ROOT).digest('hex').slice(0, 8)}-`;

/** The bundle file of an entry for the cache key `key`, in a cache directory. */
function bundleName(name, key) {
  return `${name}-${PREFIX}${key}.cjs`;
}

/**
 * Whether the bundle of `name` for the current sources is there already (nothing is built or
 * made): bin/qless-worker starts workers ahead only then, or each would build one of its own.
 */
function bundleFound(name) {
  if (switchedOn(process.env.QLESS_WORKER_NO_BUNDLE)) return false;
  try {
    const dirs = cacheDirs().filter((dir) => fs.existsSync(dir));
    if (dirs.length === 0) return false;
    const key = cacheKey();
    return dirs.some((dir) => fs.existsSync(join(dir, bundleName(name, key))));
  } catch {
    return false;
  }
}

function findOrBuild(name) {
  const dirs = cacheDirs();
  // Made before the key is taken: creating node_modules/.cache changes node_modules, which is in the key.
  if (dirs[0] === DEFAULT_CACHE) stagingDir(DEFAULT_CACHE, false);
  const key = cacheKey();
  const fileName = (entryName) => bundleName(entryName, key);
  for (const dir of dirs) {
    const file = join(dir, fileName(name));
    if (fs.existsSync(file)) return file;
  }
  for (const dir of dirs) {
    const staging = stagingDir(dir);
    if (!staging) continue;
    const bundles = Object.entries(ENTRIES).map(([entryName, entry]) => ({
      name: fileName(entryName).slice(0, -'.cjs'.length),
      entry: join(ROOT, entry),
    }));
    build({ staging, dir, prefix: PREFIX, bundles });
    return join(dir, fileName(name));
  }
  throw new Error(`no cache directory is writable (${dirs.join(', ')})`);
}

/** QLESS_WORKER_CACHE_DIR alone, else node_modules/.cache/qless-worker, else one in the temp directory. */
function cacheDirs() {
  if (process.env.QLESS_WORKER_CACHE_DIR) return [process.env.QLESS_WORKER_CACHE_DIR];
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return [DEFAULT_CACHE, join(tmpdir(), `qless-worker-${uid}`)];
}

/** A fresh directory for one build inside `dir` (when `fresh`), or undefined when `dir` cannot be written. */
function stagingDir(dir, fresh = true) {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return fresh ? fs.mkdtempSync(join(dir, '.build-')) : undefined;
  } catch {
    return undefined;
  }
}

/** Builds in a child process: esbuild's plugins need its asynchronous API, and its code stays out of ours. */
function build(job) {
  const started = Date.now();
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // a --require probe or --inspect of the pool is not the builder's
  const result = spawnSync(process.execPath, [join(__dirname, 'build.mjs'), JSON.stringify(job)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  fs.rmSync(job.staging, { recursive: true, force: true });
  if (result.status !== 0) {
    const said = (result.stderr || '').split('\n').filter((line) => line.trim() && !/^\s+at /.test(line));
    const why = result.error ? result.error.message : said.join(' | ').slice(0, 500) || `exit ${result.status}`;
    throw new Error(`building the bundle failed: ${why}`);
  }
  debug('built %d bundles in %s in %d ms', job.bundles.length, job.dir, Date.now() - started);
}

/** cacheKey() once per process (bin/qless-worker asks before it loads the supervisor). */
let knownKey;

/** Path, modification time and size of every file under src/ and of INPUTS, with Node's version. */
function cacheKey() {
  knownKey ??= computeCacheKey();
  return knownKey;
}

function computeCacheKey() {
  const hash = createHash('sha256').update(`${ROOT}\0${process.version}\0${process.arch}\0`);
  const add = (path) => {
    try {
      const stat = fs.statSync(path);
      hash.update(`${path}\0${stat.mtimeMs}\0${stat.size}\n`);
    } catch {
      hash.update(`${path}\0-\n`);
    }
  };
  const walk = (dir) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`; // path.join() here left the process ~4 MB larger (measured)
      if (entry.isDirectory()) walk(path);
      else add(path);
    }
  };
  walk(join(ROOT, 'src'));
  for (const input of INPUTS) add(input);
  return hash.digest('hex').slice(0, 16);
}

module.exports = { load, bundleFound, switchedOn };
