// qless configuration: every key with its default, set and unset. Values qless reads as numbers
// are checked first: a word where a number belongs would break every pop or completion.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { audit, type DashboardContext, writeRoute } from './context.ts';
import { badRequest } from './http-error.ts';
import { inputOf } from './params.ts';

/** The defaults qless applies when nothing is stored (the ones `config.get` lists, and two it does not). */
export const CONFIG_DEFAULTS: Record<string, number | string> = {
  application: 'qless',
  heartbeat: 60,
  'grace-period': 10,
  'stats-history': 30,
  'histogram-history': 7,
  'jobs-history-count': 50000,
  'jobs-history': 604800,
  'max-job-history': 100,
  'max-worker-age': 86400,
};

const NUMERIC = new Set(Object.keys(CONFIG_DEFAULTS).filter((key) => key !== 'application'));
const NUMERIC_SUFFIXES = ['-heartbeat', '-max-concurrency'];
const INTEGER = new Set(['jobs-history-count', 'max-job-history']);
const POSITIVE = new Set(['heartbeat']);

function checkValue(key: string, raw: unknown): string {
  if (typeof raw === 'number' && Number.isFinite(raw)) raw = String(raw);
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest(`value must be a non-empty string or a number`);
  const numeric = NUMERIC.has(key) || NUMERIC_SUFFIXES.some((suffix) => key.endsWith(suffix));
  if (!numeric) return raw;
  const value = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) throw badRequest(`${key} must be a number, got ${JSON.stringify(raw)}`);
  const integer = INTEGER.has(key) || key.endsWith('-max-concurrency');
  if (integer && !Number.isInteger(value)) throw badRequest(`${key} must be a whole number, got ${raw}`);
  if (value < 0) throw badRequest(`${key} must not be negative, got ${raw}`);
  if ((POSITIVE.has(key) || key.endsWith('-heartbeat')) && value <= 0)
    throw badRequest(`${key} must be more than 0, got ${raw}`);
  return raw.trim();
}

function keyParam(request: FastifyRequest): string {
  const key = (request.params as { key?: string }).key ?? '';
  if (key === '' || key.length > 200) throw badRequest('key must be 1 to 200 characters');
  return key;
}

export function registerConfigRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/config', async () => {
    // qless gives stored values as strings and its defaults as numbers.
    const all = await client.config.all();
    const isStored = (key: string): boolean =>
      typeof all[key] === 'string' && !(key === 'application' && all[key] === CONFIG_DEFAULTS.application);
    const keys = [...new Set([...Object.keys(CONFIG_DEFAULTS), ...Object.keys(all)])].sort();
    return {
      config: keys.map((key) => ({
        key,
        value: all[key] ?? CONFIG_DEFAULTS[key] ?? null,
        default: CONFIG_DEFAULTS[key] ?? null,
        stored: isStored(key),
      })),
    };
  });

  writeRoute(app, 'POST', '/api/config/:key', async (request) => {
    const key = keyParam(request);
    const value = checkValue(key, inputOf(request.body).value);
    await client.config.set(key, value);
    audit(request, 'config.set', { key, value });
    return { key, value, default: CONFIG_DEFAULTS[key] ?? null, stored: true };
  });

  writeRoute(app, 'DELETE', '/api/config/:key', async (request) => {
    const key = keyParam(request);
    await client.config.unset(key);
    audit(request, 'config.unset', { key });
    return { key, value: CONFIG_DEFAULTS[key] ?? null, default: CONFIG_DEFAULTS[key] ?? null, stored: false };
  });
}
