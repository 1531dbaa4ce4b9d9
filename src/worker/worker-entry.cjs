// Worker process entry for the supervisor's fork (no --import flag needed): registers tsx's
// in-thread CommonJS hooks rather than its ESM loader, whose extra thread costs ~25 MB in every
// worker, then runs the worker (src/worker/process.ts). Handlers that need real ESM still work:
// src/worker/handler/module-loader.ts registers the ESM loader on demand.
// ioredis and pino are plain CommonJS, loaded before tsx's hooks: once registered, tsx reads
// every .js file loaded and scans it for ESM syntax (over 100 ms of CPU at start-up for theirs).
require('ioredis');
require('pino');
require('tsx/cjs/api').register();
require('./process.ts');
