// Checks on caller input, done before anything is sent, so a refused call changes nothing.
import { InvalidInputError } from './errors.ts';

/** Any value JSON can represent. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A non-empty string (queue, klass, jid, group, tag, worker or config key). */
export function requireName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(`${what} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** A list of non-empty strings. */
export function requireNames(values: unknown, what: string): string[] {
  if (!Array.isArray(values))
    throw new InvalidInputError(`${what} must be an array of strings, got ${describe(values)}`);
  return values.map((value, index) => requireName(value, `${what}[${index}]`));
}

export function requireFinite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(`${what} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

export function requireNonNegative(value: unknown, what: string): number {
  const number = requireFinite(value, what);
  if (number < 0) throw new InvalidInputError(`${what} must not be negative, got ${number}`);
  return number;
}

export function requirePositive(value: unknown, what: string): number {
  const number = requireFinite(value, what);
  if (number <= 0) throw new InvalidInputError(`${what} must be greater than 0, got ${number}`);
  return number;
}

/** Paging offsets, counts and retry budgets: Redis and the script want whole numbers here. */
export function requireCount(value: unknown, what: string, { min = 0 } = {}): number {
  const number = requireFinite(value, what);
  if (!Number.isInteger(number) || number < min) {
    throw new InvalidInputError(`${what} must be an integer ≥ ${min}, got ${number}`);
  }
  return number;
}

/**
 * JSON text for `value`, refusing what JSON.stringify would silently drop or mangle:
 * undefined (except as an object property, which JSON omits), functions, symbols, BigInt,
 * NaN and ±Infinity, cycles, and Map/Set-like objects that stringify as `{}`.
 */
export function encodeJson(value: unknown, what: string): string {
  checkJson(value, what, new Set());
  return JSON.stringify(value);
}

function checkJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidInputError(`${path} is ${value}, which JSON cannot represent`);
      return;
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new InvalidInputError(`${path} is a ${typeof value}, which JSON cannot represent`);
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.has(object))
    throw new InvalidInputError(`${path} refers back to itself (a cycle), which JSON cannot represent`);
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // Dates and similar objects choose their own JSON form; check that form instead.
    ancestors.add(object);
    checkJson(toJSON.call(object), path, ancestors);
    ancestors.delete(object);
    return;
  }
  if (
    object instanceof Map ||
    object instanceof Set ||
    object instanceof WeakMap ||
    object instanceof WeakSet ||
    ArrayBuffer.isView(object) ||
    object instanceof ArrayBuffer
  ) {
    throw new InvalidInputError(`${path} is a ${object.constructor.name}, which JSON would turn into {}`);
  }
  ancestors.add(object);
  if (Array.isArray(object)) {
    for (let index = 0; index < object.length; index++) checkJson(object[index], `${path}[${index}]`, ancestors);
  } else {
    for (const [key, item] of Object.entries(object)) {
      if (item === undefined) continue; // JSON omits undefined properties, as TypeScript's optional fields expect
      checkJson(item, `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(object);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  return typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : `a ${typeof value}`;
}
