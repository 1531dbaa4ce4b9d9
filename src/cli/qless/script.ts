// `qless script`: the unified Lua core, so other tools can load exactly what this project runs.
import { scriptSource } from '../../client/script.ts';
import type { CommandSpec } from './command.ts';

export const script: CommandSpec = {
  command: 'script',
  describe:
    'Print the unified qless Lua script (load it with SCRIPT LOAD, call it with EVALSHA sha 0 <command> <now> …)',
  examples: [['$0 script > qless.lua', 'Save the core for another qless client']],
  async run(_args, context) {
    // Exactly the bytes the client loads, so the SHA1 of the output is the one EVALSHA uses.
    await context.out.raw(scriptSource());
  },
};
