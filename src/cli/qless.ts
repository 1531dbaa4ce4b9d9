// `qless`, the operator's command: yargs definitions only. Each subcommand reads and checks its
// arguments (bad usage → exit 2 before anything is sent), then calls the client and formats.
import yargs, { type Argv } from 'yargs';
import { CONNECTION_OPTIONS, exportSentinelPassword, hideSecretArguments } from './connection-flags.ts';
import { Args } from './qless/args.ts';
import { type CommandSpec, valueOption } from './qless/command.ts';
import { config } from './qless/config.ts';
import { Context } from './qless/context.ts';
import { EXIT, outcomeOf } from './qless/errors.ts';
import { Output } from './qless/output.ts';
import { failed, retry } from './qless/failures.ts';
import { cancel, move, priority, tag, track, untag, untrack } from './qless/job-changes.ts';
import { get, tagged } from './qless/jobs.ts';
import { put, recur, unrecur } from './qless/put.ts';
import { jobs, pause, peek, queue, queues, unpause } from './qless/queues.ts';
import { script } from './qless/script.ts';
import { stats } from './qless/stats.ts';
import { watch } from './qless/watch.ts';
import { web } from './qless/web.ts';
import { worker, workers } from './qless/workers.ts';
import { withUsage } from './usage.ts';

const COMMANDS: readonly CommandSpec[] = [
  put,
  recur,
  unrecur,
  queues,
  queue,
  peek,
  jobs,
  get,
  tagged,
  workers,
  worker,
  failed,
  retry,
  cancel,
  pause,
  unpause,
  priority,
  move,
  track,
  untrack,
  tag,
  untag,
  config,
  stats,
  watch,
  web,
  script,
];

const EPILOGUE = [
  'Exit codes:',
  '  0  done',
  '  1  refused by qless (its message is shown), or the job, group or key does not exist',
  '  2  bad usage: nothing was sent to Redis',
  '  3  Redis could not be reached, or failed',
  '  4  a bug in qless',
  'Redis: --redis, else $QLESS_REDIS_URL, else $REDIS_URL, else redis://127.0.0.1:6379.',
  'URLs: redis://[user:password@]host[:port][/db], rediss://… (TLS),',
  '      redis+sentinel://host1:26379,host2:26379/<master>[/db].',
].join('\n');

/** What the chosen subcommand asks for; yargs calls the handler, main() runs it. */
interface Chosen {
  spec: CommandSpec;
  argv: Record<string, unknown>;
}

function buildParser(argv: string[], choose: (chosen: Chosen) => void): Argv {
  let parser = yargs(argv)
    .scriptName('qless')
    .usage(
      '$0 <command> [options]\n\nLook at and operate a qless job system: put jobs, inspect queues, workers and ' +
        'failures, retry, cancel, pause, watch events.',
    )
    // Jids, queue names and numbers are taken as typed (yargs would turn `1e5` into 100000).
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false })
    .option('redis', {
      ...valueOption('Redis URL', '$QLESS_REDIS_URL, $REDIS_URL, redis://127.0.0.1:6379'),
      alias: 'r',
      global: true,
    })
    .options(
      Object.fromEntries(Object.entries(CONNECTION_OPTIONS).map(([name, spec]) => [name, { ...spec, global: true }])),
    )
    .option('json', {
      type: 'boolean',
      default: false,
      global: true,
      description: 'Print one JSON document (watch: one JSON object per line)',
    });
  for (const spec of COMMANDS) {
    parser = parser.command(
      spec.command,
      spec.describe,
      (command) => {
        const built = spec.build ? spec.build(command) : command;
        return built.example(spec.examples.map(([example, text]) => [example, text])).epilogue(EPILOGUE);
      },
      (parsed) => choose({ spec, argv: parsed as Record<string, unknown> }),
    );
  }
  const defined = parser
    .example([
      ['$0 put images Resize --data \'{"w":200}\'', 'Put a job; prints its jid'],
      ['$0 queues', 'Counts of every queue'],
      ['$0 get <jid>', 'One job with its history'],
      ['$0 failed', 'Failure groups; then: qless retry <group>'],
      ['$0 watch --queue images', 'Live events until Ctrl-C'],
    ])
    .epilogue(EPILOGUE)
    .demandCommand(1, 'a command is required')
    .strictCommands()
    .exitProcess(false);
  return withUsage(defined, Math.min(120, process.stdout.columns ?? 100));
}

/** Runs `qless` with these arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // Messages outside a command's result (help, errors) are never JSON.
  const plain = new Output(false);
  hideSecretArguments(argv);
  let chosen: Chosen | undefined;
  let printed = '';
  try {
    await buildParser(argv, (value) => {
      chosen = value;
    }).parseAsync(argv, {}, (_error, _parsed, output) => {
      printed = output;
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await plain.note(`qless: ${message} (see qless --help)`);
    return EXIT.usage;
  }
  if (chosen === undefined) {
    // --help or --version: yargs handed over the text instead of printing it.
    await plain.text(printed);
    return EXIT.ok;
  }
  const args = new Args(chosen.argv);
  const command = chosen.spec.command.split(' ')[0];
  let context: Context | undefined;
  try {
    exportSentinelPassword(chosen.argv);
    context = new Context({ json: args.flag('json'), redis: args.optionalText('redis'), connection: chosen.argv });
    await chosen.spec.run(args, context);
    return EXIT.ok;
  } catch (error) {
    const outcome = outcomeOf(error, (await context?.redisReady()) ?? true);
    const hint = outcome.code === EXIT.usage ? ` (see qless ${command} --help)` : '';
    await plain.note(`qless: ${outcome.message}${hint}`);
    return outcome.code;
  } finally {
    await context?.close();
  }
}
