// klass → handler function, always confined to the handler project (--path).
// `a.b.Name` loads <path>/a/b.* (or a/b/index.*) and takes export `Name`; a klass without a dot
// loads <path>/<klass>.* and takes the default export. Hot reload replaces whole processes, so
// a process may keep every module it loaded (Node's import cache) for its lifetime.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { loadModule } from './module-loader.ts';

/** Extensions tried, in this order, for a module path (then the same for `<dir>/index`). */
const HANDLER_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'] as const;

/** Method names tried on an object or class export, after the job's queue name. */
const FALLBACK_METHODS = ['process', 'perform'] as const;

/**
 * Why a klass could not become a handler. `group` is the failure group suffix: the job fails
 * with `<queue>-<group>`.
 */
export class HandlerResolutionError extends Error {
  constructor(
    readonly group: 'ModuleNotFound' | 'method-missing' | 'InvalidKlass',
    message: string,
  ) {
    super(message);
    this.name = group === 'method-missing' ? 'MethodMissing' : group;
  }
}

/** A resolved handler: call it with the job; its return value or rejection decides the outcome. */
export type Handler = (job: unknown) => unknown;

interface KlassParts {
  /** Path segments of the module, relative to the handler root. */
  segments: string[];
  /** Export name; undefined means the default export. */
  exportName: string | undefined;
}

function invalid(klass: string, why: string): HandlerResolutionError {
  return new HandlerResolutionError('InvalidKlass', `klass ${JSON.stringify(klass)} ${why}`);
}

/** Splits a klass into module segments and export name, refusing anything that could leave the root. */
export function parseKlass(klass: string): KlassParts {
  if (klass.length === 0) throw invalid(klass, 'is empty');
  if (isAbsolute(klass) || klass.startsWith('/') || klass.startsWith('\\')) throw invalid(klass, 'is an absolute path');
  if (klass.includes('\0')) throw invalid(klass, 'contains a NUL character');
  const parts = klass.split('.');
  if (parts.some((part) => part === '')) throw invalid(klass, 'has an empty segment (".." or a leading/trailing dot)');
  const segments = parts.length === 1 ? parts : parts.slice(0, -1);
  const exportName = parts.length === 1 ? undefined : parts[parts.length - 1];
  for (const segment of segments) {
    // Dots already split segments; a slash or backslash would let a segment climb the tree.
    if (segment.includes('/') || segment.includes('\\')) throw invalid(klass, 'contains a path separator');
    if (segment === 'node_modules') throw invalid(klass, 'points into node_modules');
  }
  return { segments, exportName };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The module file a klass names, or undefined when there is none. Not yet checked for confinement. */
function findModuleFile(root: string, segments: string[]): string | undefined {
  const base = join(root, ...segments);
  for (const candidate of [base, join(base, 'index')]) {
    for (const extension of HANDLER_EXTENSIONS) {
      if (isFile(candidate + extension)) return candidate + extension;
    }
  }
  return undefined;
}

/** Resolves symlinks and refuses a file outside the root or inside any node_modules folder. */
function confine(root: string, file: string, klass: string): string {
  const realRoot = realpathSync(root);
  const realFile = realpathSync(file);
  const inside = relative(realRoot, realFile);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
    throw invalid(klass, `resolves outside the handler path (${realFile})`);
  }
  if (inside.split(sep).includes('node_modules')) throw invalid(klass, `resolves into node_modules (${realFile})`);
  return realFile;
}

/** The absolute, real path of the module file for a klass, confined to the root. */
function resolveHandlerFile(root: string, klass: string): string {
  const { segments } = parseKlass(klass);
  const file = findModuleFile(root, segments);
  if (file === undefined) {
    const tried = join(root, ...segments);
    throw new HandlerResolutionError(
      'ModuleNotFound',
      `no module for klass ${JSON.stringify(klass)}: tried ${tried}{${HANDLER_EXTENSIONS.join(',')}} ` +
        `and ${join(tried, 'index')}{${HANDLER_EXTENSIONS.join(',')}}`,
    );
  }
  return confine(root, file, klass);
}

type Module = Record<string, unknown>;

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function importModule(file: string): Promise<Module> {
  try {
    return await loadModule(file);
  } catch (error) {
    // A dependency of the handler that is missing is the same operator problem as a missing handler.
    if (isModuleNotFound(error)) {
      const wrapped = new HandlerResolutionError('ModuleNotFound', `loading ${file}: ${(error as Error).message}`);
      wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${(error as Error).stack ?? ''}`;
      throw wrapped;
    }
    // tsx compiles handlers with esbuild, which reports a syntax error as a TransformError; the
    // failure group should say what the user did wrong, whichever loader found it.
    if (error instanceof Error && error.name === 'TransformError') {
      const syntax = new SyntaxError(`${file}: ${error.message}`);
      syntax.stack = `SyntaxError: ${syntax.message}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
      throw syntax;
    }
    throw error;
  }
}

function pickExport(module: Module, exportName: string | undefined): unknown {
  if (exportName === undefined) return module.default;
  if (exportName in module) return module[exportName];
  // CommonJS modules whose named exports the loader could not detect statically.
  const fallback = module.default;
  if (fallback !== null && (typeof fallback === 'object' || typeof fallback === 'function')) {
    return (fallback as Module)[exportName];
  }
  return undefined;
}

function isClass(value: object): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(value));
}

type Method = (this: unknown, job: unknown) => unknown;

/** A method on an object, a class (static first, then instance) or undefined. */
function findMethod(target: object, name: string, asClass: boolean): Handler | undefined {
  const own = (target as Record<string, unknown>)[name];
  if (typeof own === 'function') return (job) => (own as Method).call(target, job);
  if (asClass) {
    const proto = (target as { prototype?: Record<string, unknown> }).prototype;
    const method = proto?.[name];
    if (typeof method === 'function') {
      const Ctor = target as new () => unknown;
      return (job) => (method as Method).call(new Ctor(), job);
    }
  }
  return undefined;
}

/** Turns an export into a callable: a plain function, or a method named after the queue, `process`, `perform`. */
function handlerFromExport(value: unknown, queue: string, klass: string): Handler {
  if (typeof value === 'function' && !isClass(value)) return (job) => (value as Method)(job);
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    const asClass = typeof value === 'function';
    for (const name of [queue, ...FALLBACK_METHODS]) {
      const method = findMethod(value, name, asClass);
      if (method) return method;
    }
    const tried = [queue, ...FALLBACK_METHODS].map((name) => JSON.stringify(name)).join(', ');
    throw new HandlerResolutionError(
      'method-missing',
      `export of klass ${JSON.stringify(klass)} has no method ${tried}`,
    );
  }
  const what =
    value === undefined
      ? 'is missing'
      : `is a ${value === null ? 'null' : typeof value}, not a function, object or class`;
  throw new HandlerResolutionError('method-missing', `export for klass ${JSON.stringify(klass)} ${what}`);
}

/** Loads the handler for a klass and queue. Throws HandlerResolutionError, or whatever loading the module throws. */
export async function loadHandler(root: string, klass: string, queue: string): Promise<Handler> {
  const { exportName } = parseKlass(klass);
  const file = resolveHandlerFile(root, klass);
  const module = await importModule(file);
  return handlerFromExport(pickExport(module, exportName), queue, klass);
}
