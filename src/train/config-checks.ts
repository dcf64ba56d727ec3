/**
 * The checks the trainable model's two config parsers share (config.ts for the recurrent model,
 * seq2seq-config.ts for the encoder–decoder): each failure is a CONFIG_INVALID error that names the key.
 */
import { RnnError, describeValue } from '../errors.js';

export const fail = (message: string): never => {
  throw new RnnError('CONFIG_INVALID', message);
};

/** `value` as an object whose keys are all among `known` (`what` names it in the error). */
export function checkKeys(what: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${what}: expected an object, got ${describeValue(value)}`);
  const unknown = Object.keys(value as object).filter((k) => !known.includes(k));
  if (unknown.length) fail(`${what}: unknown key(s) ${unknown.map((k) => describeValue(k)).join(', ')}; known keys are ${known.join(', ')}`);
  return value as Record<string, unknown>;
}

/** `v` as a positive safe integer. */
export function positive(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`${what}: expected a positive integer, got ${describeValue(v)}`);
  return v as number;
}
