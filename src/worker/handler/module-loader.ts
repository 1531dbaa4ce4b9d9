// Loads a handler module in whichever way this worker process was started:
// - under tsx's ESM loader (`node --import tsx`): a plain import();
// - under tsx's in-thread CommonJS hooks (src/worker/worker-entry.cjs, which saves the ~25 MB
//   of tsx's loader thread per worker): require(), which compiles .ts/.mts through tsx and loads
//   ESM JavaScript through Node's require(esm). A module that needs real ESM (top-level await)
//   gets tsx's ESM loader registered on demand, then import().
// In the bundle of src/launch/ tsx's CommonJS hooks are not registered at start-up (our own code is
// compiled already): they are registered before the first handler loads, so handlers load as above.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';

export type ModuleNamespace = Record<string, unknown>;

/** True when this code was loaded by require (tsx's CommonJS hooks), not by the ESM loader. */
const underCommonJsHooks = typeof require === 'function' && typeof module === 'object';

/** Defined as true by the bundle's build (src/launch/build.mjs); undeclared when loaded through tsx. */
declare const QLESS_WORKER_BUNDLED: boolean | undefined;
let commonJsHooksRegistered = typeof QLESS_WORKER_BUNDLED === 'undefined';

function registerCommonJsHooks(): void {
  if (commonJsHooksRegistered) return;
  (createRequire(import.meta.url)('tsx/cjs/api') as { register: () => void }).register();
  commonJsHooksRegistered = true;
}

let esmLoaderRegistered: Promise<void> | undefined;

function registerEsmLoader(): Promise<void> {
  esmLoaderRegistered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return esmLoaderRegistered;
}

/** What `import()` would give for a module loaded by require. */
function asNamespace(exports: unknown): ModuleNamespace {
  if (exports !== null && typeof exports === 'object') {
    if (types.isModuleNamespaceObject(exports) || (exports as { __esModule?: unknown }).__esModule)
      return exports as ModuleNamespace;
  }
  // CommonJS: module.exports is the default export (named ones are read from it by the caller).
  return { default: exports };
}

/** Whether require() failed only because the module needs the ESM loader (top-level await). */
function needsEsmLoader(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_REQUIRE_ASYNC_MODULE' || code === 'ERR_REQUIRE_ESM') return true;
  return error instanceof Error && /top-level await/i.test(error.message);
}

export async function loadModule(file: string): Promise<ModuleNamespace> {
  if (!underCommonJsHooks) return (await import(pathToFileURL(file).href)) as ModuleNamespace;
  registerCommonJsHooks();
  try {
    return asNamespace(createRequire(file)(file));
  } catch (error) {
    if (!needsEsmLoader(error)) throw error;
  }
  await registerEsmLoader();
  return (await import(pathToFileURL(file).href)) as ModuleNamespace;
}
