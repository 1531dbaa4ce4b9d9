// Reading a request's query and body values: each reader checks one value and throws a 400 that
// names it, before anything is sent to Redis.
import { badRequest } from './http-error.ts';

export type Input = Record<string, unknown>;

/** The request's query or body as a plain object (absent or not an object → empty). */
export function inputOf(value: unknown): Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Input) : {};
}

export function optionalText(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} must be a string`);
  return value;
}

export function text(input: Input, name: string): string {
  const value = optionalText(input, name);
  if (value === undefined) throw badRequest(`${name} is required`);
  return value;
}

/** A number from JSON (a number) or from a query string (decimal text); `inf`, `0x10` and the like are refused. */
export function optionalNumber(
  input: Input,
  name: string,
  rule: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const raw = input[name];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)
        ? Number(raw)
        : Number.NaN;
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value)) throw badRequest(`${name} must be ${kind}, got ${JSON.stringify(raw)}`);
  if (rule.integer && !Number.isInteger(value)) throw badRequest(`${name} must be ${kind}, got ${value}`);
  if (rule.min !== undefined && value < rule.min)
    throw badRequest(`${name} must be at least ${rule.min}, got ${value}`);
  if (rule.max !== undefined && value > rule.max) throw badRequest(`${name} must be at most ${rule.max}, got ${value}`);
  return value;
}

export function requiredNumber(input: Input, name: string, rule: { integer?: boolean; min?: number } = {}): number {
  const value = optionalNumber(input, name, rule);
  if (value === undefined) throw badRequest(`${name} is required`);
  return value;
}

/** A list of non-empty strings: a JSON array, or a comma-separated string. */
export function optionalNames(input: Input, name: string): string[] | undefined {
  const raw = input[name];
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === 'string' ? raw.split(',').map((item) => item.trim()) : raw;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))
    throw badRequest(`${name} must be a list of strings`);
  const names = (list as string[]).filter((item) => item !== '');
  if (typeof raw !== 'string' && names.length !== list.length) throw badRequest(`${name} must not hold empty strings`);
  return names;
}

export function names(input: Input, name: string): string[] {
  const list = optionalNames(input, name);
  if (list === undefined || list.length === 0) throw badRequest(`${name} must name at least one`);
  return list;
}

export function flag(input: Input, name: string): boolean {
  const raw = input[name];
  if (raw === undefined || raw === null || raw === '' || raw === false || raw === 'false' || raw === '0') return false;
  if (raw === true || raw === 'true' || raw === '1') return true;
  throw badRequest(`${name} must be true or false`);
}

export const DEFAULT_PAGE = 25;
export const MAX_PAGE = 500;

export interface Paging {
  offset: number;
  limit: number;
}

export function paging(input: Input): Paging {
  return {
    offset: optionalNumber(input, 'offset', { integer: true, min: 0 }) ?? 0,
    limit: optionalNumber(input, 'limit', { integer: true, min: 1, max: MAX_PAGE }) ?? DEFAULT_PAGE,
  };
}

/** A page past the end is refused rather than answered with an empty list that looks like "no jobs". */
export function checkOffset(page: Paging, total: number, what: string): void {
  if (page.offset > 0 && page.offset >= total)
    throw badRequest(`offset ${page.offset} is past the end: ${total} ${what} in all`);
}

/** JSON text a user typed into a form, decoded; the reason is given when it does not parse. */
export function jsonInput(input: Input, name: string): unknown {
  const raw = input[name];
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw badRequest(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}
