// Worker process entry for the supervisor's fork (no --import flag needed): registers tsx's
// in-thread CommonJS hooks rather than its ESM loader, whose extra thread costs ~25 MB in every
// worker, then runs the worker (src/worker/process.ts). Handlers that need real ESM still work:
// src/worker/handler/module-loader.ts registers the ESM loader on demand.
// From a cached bundle of its modules when it can (src/launch/launch.cjs), else through those hooks.
require('../launch/launch.cjs').load('worker');
