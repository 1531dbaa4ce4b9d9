// Worker process entry for the supervisor's fork (no --import flag needed): runs the worker
// (src/worker/process.ts) from a cached bundle of its modules (src/launch/launch.cjs), else through
// tsx's in-thread CommonJS hooks rather than its ESM loader, whose extra thread costs ~25 MB in
// every worker. Handlers load through tsx either way (src/worker/handler/module-loader.ts, which
// registers the ESM loader on demand for handlers that need real ESM).
require('../launch/launch.cjs').load('worker');
