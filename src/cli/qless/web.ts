// `qless web`: the live dashboard (src/web/), until Ctrl-C.
import { createRequire } from 'node:module';
import type { CommandSpec } from './command.ts';
import { UsageError } from '../usage.ts';

// Loaded when the command runs (through require, as connect.ts loads the client): --help stays fast.
const require = createRequire(import.meta.url);
type WebCommand = typeof import('../../web/command.ts');
type WebOptions = typeof import('../../web/options.ts');

export const web: CommandSpec = {
  command: 'web',
  describe: 'Serve the live dashboard (127.0.0.1:5678 by default) until Ctrl-C',
  build: (yargs) =>
    yargs
      .option('port', {
        type: 'string',
        requiresArg: true,
        description: 'Port',
        defaultDescription: '$QLESS_WEB_PORT, 5678',
      })
      .option('host', {
        type: 'string',
        requiresArg: true,
        description: 'Address to listen on; any but loopback needs --auth or --token',
        defaultDescription: '$QLESS_WEB_HOST, 127.0.0.1',
      })
      .option('auth', {
        type: 'string',
        requiresArg: true,
        description: 'Basic auth user:password',
        defaultDescription: '$QLESS_WEB_AUTH',
      })
      .option('token', {
        type: 'string',
        requiresArg: true,
        description: 'A secret token instead of --auth',
        defaultDescription: '$QLESS_WEB_TOKEN',
      })
      .option('read-only', {
        type: 'boolean',
        default: false,
        description: 'No writes: no write controls, write routes answer 403',
      })
      .option('open', { type: 'boolean', default: false, description: 'Open the dashboard in a browser' }),
  examples: [
    ['$0 web', 'Dashboard on http://127.0.0.1:5678/'],
    ['QLESS_WEB_AUTH=ops:secret $0 web --host 0.0.0.0 --read-only', 'On the network, password-protected, read-only'],
  ],
  async run(args, context) {
    const { serveOptionsFrom, serveUntilStopped, listenProblem } = require('../../web/command.ts') as WebCommand;
    const { WebOptionsError, checkExposure } = require('../../web/options.ts') as WebOptions;
    let options: ReturnType<typeof serveOptionsFrom>;
    try {
      options = serveOptionsFrom({
        port: args.optionalText('port'),
        host: args.optionalText('host'),
        auth: args.optionalText('auth'),
        token: args.optionalText('token'),
        readOnly: args.flag('read-only'),
        open: args.flag('open'),
      });
      checkExposure(options);
    } catch (error) {
      if (error instanceof WebOptionsError) throw new UsageError(error.message);
      throw error;
    }
    // Fails fast (exit 3) when Redis cannot be reached; the dashboard then keeps its own connection.
    await context.client();
    try {
      await serveUntilStopped({ ...options, redis: context.redisUrl(), open: args.flag('open') }, (line) =>
        context.out.text(line),
      );
    } catch (error) {
      const problem = listenProblem(error, options);
      if (problem !== undefined) throw new UsageError(problem);
      throw error;
    }
  },
};
