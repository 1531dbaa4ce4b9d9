// Typed reading of the parsed command line. yargs hands everything over as text (number parsing
// is off, so jids like `1e5` stay as typed); each reader checks one value and throws UsageError.
import { UsageError } from '../usage.ts';

/** Plain decimal numbers only: `0x10`, `inf` or `1e400` are refused rather than guessed at. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

interface NumberRule {
  integer?: boolean;
  min?: number;
  /** The value must be above `min`, not equal to it. */
  aboveMin?: boolean;
}

interface Paging {
  offset: number;
  limit: number;
}

export class Args {
  readonly #raw: Record<string, unknown>;

  constructor(raw: Record<string, unknown>) {
    this.#raw = raw;
  }

  /** A required, non-empty value (positionals are checked by yargs, but may be `""`). */
  text(name: string, label = name): string {
    const value = this.optionalText(name, label);
    if (value === undefined) throw new UsageError(`${label} is required`);
    return value;
  }

  optionalText(name: string, label = `--${name}`): string | undefined {
    const value = this.#raw[name];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) throw new UsageError(`${label} was given more than once`);
    const text = String(value);
    if (text === '') throw new UsageError(`${label} must not be empty`);
    return text;
  }

  /** A repeatable option or a variadic positional: zero or more non-empty values. */
  texts(name: string, label = `--${name}`): string[] {
    const value = this.#raw[name];
    if (value === undefined) return [];
    const list = (Array.isArray(value) ? value : [value]).map(String);
    if (list.some((item) => item === '')) throw new UsageError(`${label} must not be empty`);
    return list;
  }

  flag(name: string): boolean {
    return this.#raw[name] === true;
  }

  optionalNumber(name: string, rule: NumberRule = {}, label = `--${name}`): number | undefined {
    const text = this.optionalText(name, label);
    return text === undefined ? undefined : parseNumber(text, label, rule);
  }

  number(name: string, rule: NumberRule = {}, label = name): number {
    return parseNumber(this.text(name, label), label, rule);
  }

  /** `--data`-style JSON; only an object or an array, as qless jobs carry. */
  optionalJson(name: string): Record<string, unknown> | unknown[] | undefined {
    const text = this.optionalText(name);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`--${name} is not valid JSON (${(error as Error).message}): ${text}`);
    }
    if (typeof value !== 'object' || value === null)
      throw new UsageError(`--${name} must be a JSON object or array, got ${text}`);
    return value as Record<string, unknown> | unknown[];
  }

  /** --offset and --limit; without a default limit, no --limit means everything. */
  paging(defaultLimit: number): Paging;
  paging(defaultLimit: undefined): { offset: number; limit: number | undefined };
  paging(defaultLimit: number | undefined): { offset: number; limit: number | undefined } {
    return {
      offset: this.optionalNumber('offset', { integer: true, min: 0 }) ?? 0,
      limit: this.optionalNumber('limit', { integer: true, min: 1 }) ?? defaultLimit,
    };
  }
}

export function parseNumber(text: string, label: string, rule: NumberRule = {}): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value)) throw new UsageError(`${label} must be ${kind}, got ${JSON.stringify(text)}`);
  if (rule.integer && !Number.isInteger(value)) throw new UsageError(`${label} must be ${kind}, got ${text}`);
  if (rule.min !== undefined && (rule.aboveMin ? value <= rule.min : value < rule.min)) {
    throw new UsageError(`${label} must be ${rule.aboveMin ? 'more than' : 'at least'} ${rule.min}, got ${text}`);
  }
  return value;
}
