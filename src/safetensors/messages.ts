/**
 * How the safetensors code words its errors: fail (an RnnError with code SAFETENSORS_INVALID, prefixed
 * "safetensors: "), and the helpers that show a hostile file's values in a message without trusting them:
 * names quoted and cut short, arrays and shapes cut short, nested values not entered.
 */
import { RnnError, describeValue } from '../errors.js';
import { formatShape } from '../tensor.js';
import { isRecord } from './format.js';

/** Names and values longer than this are cut short in error messages. */
const MESSAGE_TEXT_CHARS = 60;
/** Array elements shown in an error message before "…". */
const MESSAGE_ARRAY_ITEMS = 8;

/** Throws the RnnError (code SAFETENSORS_INVALID) every malformed file or argument gets. */
export function fail(message: string): never {
  throw new RnnError('SAFETENSORS_INVALID', `safetensors: ${message}`);
}

/** What kind of JSON value this is, for messages: 'null', 'an array', 'an object', 'a string', … */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A header value as the file spells it, for messages: long strings and arrays cut short, nested values
 * not entered (a hostile header can nest or repeat without end; JSON.stringify would recurse or balloon).
 */
export function showJson(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return JSON.stringify(value);
  if (value === null || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, MESSAGE_ARRAY_ITEMS).map((v) => (Array.isArray(v) ? '[…]' : isRecord(v) ? '{…}' : showJson(v)));
    return `[${shown.join(',')}${value.length > MESSAGE_ARRAY_ITEMS ? ',…' : ''}]`;
  }
  return isRecord(value) ? '{…}' : describeValue(value);
}

/** A checked shape for messages, `[2, 3]`, cut short after MESSAGE_ARRAY_ITEMS dimensions. */
export function showShape(shape: readonly number[]): string {
  return shape.length > MESSAGE_ARRAY_ITEMS ? formatShape(shape.slice(0, MESSAGE_ARRAY_ITEMS)).replace(/]$/, ', …]') : formatShape(shape);
}

/** A name for messages: JSON-quoted (names may hold quotes or control characters) and cut short. */
export function quote(text: string): string {
  return JSON.stringify(text.length > MESSAGE_TEXT_CHARS ? `${text.slice(0, MESSAGE_TEXT_CHARS)}…` : text);
}
