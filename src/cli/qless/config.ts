// qless configuration: `config` (everything), `config get|set|unset <key> [value]`.
import { renderTable } from '../format/table.ts';
import { parseNumber } from './args.ts';
import type { CommandSpec } from './command.ts';
import { QlessError } from '../../client/errors.ts';
import { UsageError } from '../usage.ts';

const ACTIONS = ['get', 'set', 'unset'] as const;

/** Keys qless reads as numbers: a value that is not one would break every pop or completion. */
const NUMERIC_KEYS = new Set([
  'heartbeat',
  'grace-period',
  'jobs-history',
  'jobs-history-count',
  'max-job-history',
  'max-worker-age',
  'stats-history',
  'histogram-history',
]);
const NUMERIC_SUFFIXES = ['-heartbeat', '-max-concurrency'];
/** Counts Redis takes as ranks or limits: a fraction (e.g. 1.5) makes those commands fail. */
const INTEGER_KEYS = new Set(['jobs-history-count', 'max-job-history']);
const INTEGER_SUFFIXES = ['-max-concurrency'];

function checkValue(key: string, value: string): void {
  if (NUMERIC_KEYS.has(key) || NUMERIC_SUFFIXES.some((suffix) => key.endsWith(suffix))) {
    const integer = INTEGER_KEYS.has(key) || INTEGER_SUFFIXES.some((suffix) => key.endsWith(suffix));
    parseNumber(value, `the value of ${key}`, { integer });
  }
}

export const config: CommandSpec = {
  command: 'config [action] [key] [value]',
  describe: 'Show qless configuration (defaults included), or get, set or unset one key',
  build: (yargs) =>
    yargs
      .positional('action', { type: 'string', describe: ACTIONS.join(' | '), defaultDescription: 'show all' })
      .positional('key', { type: 'string', describe: 'e.g. heartbeat, grace-period, <queue>-max-concurrency' })
      .positional('value', { type: 'string', describe: 'The new value (set only)' }),
  examples: [
    ['$0 config', 'Every setting, defaults included'],
    ['$0 config set images-heartbeat 300', 'Jobs of queue images hold their lock for 5 minutes per heartbeat'],
    ['$0 config get heartbeat', 'One value'],
    ['$0 config unset images-heartbeat', 'Back to the default'],
  ],
  async run(args, context) {
    const action = args.optionalText('action', 'action');
    const key = args.optionalText('key', 'key');
    const value = args.optionalText('value', 'value');
    if (action === undefined) {
      const client = await context.client();
      const all = await client.config.all();
      const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
      await context.out.result(sorted, () =>
        renderTable(
          [{ header: 'KEY' }, { header: 'VALUE' }],
          Object.entries(sorted).map(([k, v]) => [k, String(v)]),
        ),
      );
      return;
    }
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`config action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
    if (key === undefined) throw new UsageError(`config ${action} needs a key`);
    if (action === 'set') {
      if (value === undefined) throw new UsageError(`config set ${key} needs a value`);
      checkValue(key, value);
    } else if (value !== undefined) {
      throw new UsageError(`config ${action} takes only a key, got an extra ${JSON.stringify(value)}`);
    }
    const client = await context.client();
    if (action === 'get') {
      const current = await client.config.get(key);
      if (current === null) throw new QlessError(`config ${key} is not set and has no default`);
      await context.out.result({ key, value: current }, () => String(current));
    } else if (action === 'set') {
      await client.config.set(key, value as string);
      await context.out.result({ key, value }, () => `${key} = ${value}`);
    } else {
      await client.config.unset(key);
      const fallback = await client.config.get(key);
      await context.out.result(
        { key, value: fallback },
        () => `${key} unset${fallback === null ? '' : ` (default ${fallback})`}`,
      );
    }
  },
};
