/**
 * The benchmark's progress lines read back into their facts, for the Speed panel and the benchmark page
 * to word in the page's language. runBench (src/bench/run.ts) writes them in English for a terminal —
 * an adapter line, then formatRow's line per shape and system — and they are its only sign of progress
 * before the report, so the page reads them rather than showing them. The shape and system names are
 * given, not guessed: a name may be longer than its padded column (train-classifier), leaving a single
 * space before the next. A line of any other kind (the ceilings) is undefined, and not shown.
 */
import type { StringKey } from './i18n.js';

export type BenchProgress =
  | { kind: 'adapter'; adapter: string }
  | { kind: 'row'; shape: string; system: string; ms: number | null }
  | { kind: 'unavailable'; shape: string; system: string; error: string };

/** The name in `names` that `text` starts with, followed by a space or the end; the longest (webgpu-rnn-forward before webgpu-rnn). */
function leading(text: string, names: readonly string[]): string | undefined {
  return [...names].sort((a, b) => b.length - a.length).find((n) => text.startsWith(n) && (text.length === n.length || text[n.length] === ' '));
}

export function readProgress(line: string, shapes: readonly string[], systems: readonly string[]): BenchProgress | undefined {
  const adapter = /^adapter: (.*?)(?: \(software\))?; runtime: /.exec(line);
  if (adapter) return { kind: 'adapter', adapter: adapter[1] };
  const shape = leading(line, shapes);
  if (!shape) return undefined;
  const rest = line.slice(shape.length).trimStart();
  const system = leading(rest, systems);
  if (!system) return undefined;
  const after = rest.slice(system.length).trimStart();
  if (after.startsWith('unavailable: ')) return { kind: 'unavailable', shape, system, error: after.slice('unavailable: '.length) };
  const ms = /^(\S+) ms\b/.exec(after);
  if (!ms) return undefined;
  return { kind: 'row', shape, system, ms: Number.isFinite(Number(ms[1])) ? Number(ms[1]) : null };
}

/** The string key and values that say `progress`, with the shape and system named as the page names them. */
export function progressString(
  progress: BenchProgress,
  shapeLabel: (shape: string) => string,
  systemLabel: (system: string) => string,
): [StringKey, Record<string, string | number>] {
  if (progress.kind === 'adapter') return ['sp.progressAdapter', { adapter: progress.adapter }];
  const names = { shape: shapeLabel(progress.shape), system: systemLabel(progress.system) };
  if (progress.kind === 'unavailable') return ['sp.progressUnavailable', { ...names, error: progress.error }];
  return progress.ms === null ? ['sp.progressUntimed', names] : ['sp.progressRow', { ...names, ms: progress.ms.toFixed(1) }];
}
