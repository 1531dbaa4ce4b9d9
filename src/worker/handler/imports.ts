// The --import modules a worker loads before it takes any job (instrumentation, polyfills, a
// shared set-up): a path (made absolute by the CLI, or a file: URL), else a package seen from the
// handler project first and from ours second. Files go through the handlers' loader, so
// TypeScript works in both entry modes.
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModule } from './module-loader.ts';

export async function loadImport(specifier: string, handlerPath: string): Promise<void> {
  if (isAbsolute(specifier)) {
    await loadModule(specifier);
    return;
  }
  if (specifier.startsWith('file:')) {
    await loadModule(fileURLToPath(specifier));
    return;
  }
  let resolved: string | undefined;
  try {
    resolved = createRequire(join(handlerPath, 'package.json')).resolve(specifier);
  } catch {
    // Not resolvable from the handler project (or ESM-only without a require condition): try ours.
  }
  if (resolved) await loadModule(resolved);
  else await import(specifier);
}
