/**
 * Command-line parsing shared by the `webgpu-rnn` command (cli.ts) and the benchmark's (bench/cli.ts):
 * Node's util.parseArgs, plus the checks its strict mode words poorly — every mistake an RnnError
 * 'USAGE' naming the option.
 */
import { parseArgs as parseArgv } from 'node:util';
import { RnnError } from './errors.js';

/** The options a command accepts: a string option takes a value, a boolean one takes none. */
export type OptionSpecs = Record<string, { type: 'string' | 'boolean' }>;

/** One option as given, in command-line order. */
export interface GivenOption {
  /** Its name without dashes (`config`). */
  readonly name: string;
  /** The value of a string option; undefined for a boolean one. */
  readonly value: string | undefined;
  /** The argv indices it occupies: one (`--json=x`, `--big`) or two (`--json x`). */
  readonly indices: readonly number[];
}

/** A separate argument taken for a value that looks like an option instead (`--config --weights`); negative numbers pass. */
const LOOKS_LIKE_OPTION = /^-[^\d]/;

/**
 * Parses a command line with util.parseArgs, then checks it in one pass of our own: an unknown
 * option, a string option without a value (`--config` at the end, `--config=`, `--config --out x`),
 * or a boolean option given a value (`--big=1`) throws RnnError 'USAGE' naming it. parseArgs' strict
 * mode would reject the same, but in messages of several lines that speak of argument terminators,
 * so its tokens are checked here instead. Both `--name value` and `--name=value` are accepted.
 *
 * Options come back in the order given (a later repeat wins for callers that keep the last), so
 * callers whose options interact (the benchmark's --shapes / --big / --tiny) can fold them in order.
 */
export function parseCommandLine(argv: readonly string[], specs: OptionSpecs): { options: GivenOption[]; positionals: string[] } {
  const { tokens } = parseArgv({ args: [...argv], options: specs, strict: false, allowPositionals: true, tokens: true });
  const options: GivenOption[] = [];
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    // A group of short options (-abc) is split into tokens sharing one index: name the argument as typed.
    const shown = token.rawName.startsWith('--') ? token.rawName : argv[token.index];
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (!spec) throw new RnnError('USAGE', `unknown option ${JSON.stringify(shown)}`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new RnnError('USAGE', `${shown} takes no value, got ${JSON.stringify(token.value)}`);
      options.push({ name: token.name, value: undefined, indices: [token.index] });
      continue;
    }
    const value = token.value;
    if (value === undefined || value === '' || (!token.inlineValue && LOOKS_LIKE_OPTION.test(value))) {
      throw new RnnError('USAGE', `${shown} needs a value`);
    }
    options.push({ name: token.name, value, indices: token.inlineValue ? [token.index] : [token.index, token.index + 1] });
  }
  return { options, positionals };
}
