// Builds the bundles of src/launch/launch.cjs, in a child process of it (esbuild's plugins need its
// asynchronous API). Argument: JSON { staging, dir, prefix, bundles: [{ name, entry }] }. Writes
// every bundle into `staging` (a fresh directory inside `dir`), then renames each into `dir`, so a
// process never reads half a file and two builds at once each leave a whole one. Deletes bundles
// of the same repo older than a minute, left by earlier sources. Exits non-zero on any failure.
//
// What the bundle keeps of how the sources behave when loaded one by one:
// - `import.meta.url` (and .filename, .dirname) is each module's own file, not the bundle: files
//   found next to a source (src/lua/qless.lua, package.json) are found as before; so are
//   __dirname and __filename in CommonJS packages (ioredis reads its package.json);
// - `import.meta.resolve('<specifier>')` is resolved here, from this package;
// - `createRequire(import.meta.url)('./x.ts')`, a module loaded only when needed, becomes a plain
//   require that esbuild bundles as a module evaluated on first require (still only when needed);
//   packages loaded that way stay outside the bundle, loaded from node_modules when needed;
// - tsx stays outside (handlers load through it on demand), and QLESS_WORKER_BUNDLED is true so
//   src/worker/handler/module-loader.ts knows it has to register tsx's hooks itself.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const job = JSON.parse(process.argv[2]);

const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js' };

/** CommonJS code that reads __dirname or __filename (a package finding its files) gets its own. */
function withSourcePaths(source, file) {
  if (!/\b__(dirname|filename)\b/.test(source) || /\b(var|let|const)\s+__(dirname|filename)\b/.test(source))
    return source;
  const paths = `var __dirname = ${JSON.stringify(dirname(file))}, __filename = ${JSON.stringify(file)};`;
  // After a hashbang and a 'use strict' (still the first statement), on the same line: positions hold.
  const [head] = source.match(/^(#![^\n]*\n)?(?:\s|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*(?:(['"])use strict\2;?)?/);
  return `${head};${paths}${source.slice(head.length)}`;
}

/** The source with `import.meta` replaced by what it means for this file. */
function withSourceMeta(source, file) {
  if (!source.includes('import.meta')) return source;
  const url = pathToFileURL(file).href;
  return source
    .replace(/createRequire\(\s*import\.meta\.url\s*\)\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g, 'require($1$2$1)')
    .replace(/import\.meta\.resolve\(\s*(['"])([^'"]+)\1\s*\)/g, (_, _quote, specifier) =>
      JSON.stringify(specifier.startsWith('.') ? new URL(specifier, url).href : import.meta.resolve(specifier)),
    )
    .replace(/import\.meta\.url\b/g, JSON.stringify(url))
    .replace(/import\.meta\.filename\b/g, JSON.stringify(file))
    .replace(/import\.meta\.dirname\b/g, JSON.stringify(dirname(file)));
}

const sourceMeta = {
  name: 'source-meta',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = withSourcePaths(withSourceMeta(source, args.path), args.path);
      return contents === source ? undefined : { contents, loader: LOADERS[extname(args.path)] ?? 'js' };
    });
  },
};

/** tsx (and what it loads) stays a package of its own, named by absolute path: the bundle may live anywhere. */
const tsxOutside = {
  name: 'tsx-outside',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^tsx(\/|$)/ }, (args) => {
      const path =
        args.kind === 'require-call' ? createRequire(args.importer).resolve(args.path) : import.meta.resolve(args.path);
      return { path, external: true };
    });
  },
};

const result = await build({
  entryPoints: Object.fromEntries(job.bundles.map(({ name, entry }) => [name, entry])),
  outdir: job.staging,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${process.versions.node}`,
  define: { QLESS_WORKER_BUNDLED: 'true' },
  plugins: [sourceMeta, tsxOutside],
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'silent',
});
// An `import.meta` left empty would break at run time: better no bundle (the launcher then uses tsx).
const empty = result.warnings.filter((warning) => warning.id === 'empty-import-meta');
if (empty.length > 0) {
  const where = empty.map(({ location }) => `${location?.file}:${location?.line}`).join(', ');
  throw new Error(`import.meta the bundle cannot keep: ${where}`);
}

/**
 * The bundle as ASCII: esbuild escapes what is not ASCII in code, but keeps the comments it leaves
 * as they were written (`…`, `→`), and one such character makes V8 hold the whole source (kept
 * for lazy compiling) as a two-byte string: about 0.5 MB more heap in every worker. Escaped here,
 * where only comments can still hold one.
 */
function asAscii(file) {
  const code = readFileSync(file, 'utf8');
  const ascii = code.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== code) writeFileSync(file, ascii);
}

for (const { name } of job.bundles) {
  asAscii(join(job.staging, `${name}.cjs`));
  // The map names the sources relative to the staging directory: absolute, it holds wherever the bundle goes.
  const mapFile = join(job.staging, `${name}.cjs.map`);
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  map.sources = map.sources.map((source) => pathToFileURL(resolve(job.staging, source)).href);
  writeFileSync(mapFile, JSON.stringify(map));
  renameSync(mapFile, join(job.dir, `${name}.cjs.map`));
  renameSync(join(job.staging, `${name}.cjs`), join(job.dir, `${name}.cjs`));
}

const current = new Set(job.bundles.flatMap(({ name }) => [`${name}.cjs`, `${name}.cjs.map`]));
for (const file of readdirSync(job.dir)) {
  const stale = file.includes(`-${job.prefix}`) && !current.has(file);
  if (stale || file.startsWith('.build-')) {
    const path = join(job.dir, file);
    try {
      const age = file.startsWith('.build-') ? 600_000 : 60_000; // a build takes seconds at most
      if (Date.now() - statSync(path).mtimeMs > age) rmSync(path, { recursive: true, force: true });
    } catch {
      // another build removed it first
    }
  }
}
