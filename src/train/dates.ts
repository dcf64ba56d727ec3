/**
 * The classic date-conversion task for an encoder–decoder: a date written one of many ways — English,
 * numeric with several separators and orders, Chinese with Arabic or Chinese numerals — to its ISO form
 * YYYY-MM-DD. Seeded, with a split that holds out whole dates: no held-out date appears in training in
 * any format, so exact match on them measures conversion, not memory.
 *
 * Characters are the tokens. The source vocabulary is id 0 = padding, then every character the
 * formats can write; the target vocabulary is padding, bos, eos, the ten digits and '-' (13 tokens), and
 * a target is its 10 characters (target_in: bos and the first 9).
 */
import { RnnError, describeValue } from '../errors.js';
import { seededUniform } from '../random.js';
import type { TrainBatch } from './batch.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const CHINESE_DIGITS = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** 1 … 31 as Chinese numerals: 十, 十一, 二十, 二十三, 三十一. */
function chineseNumber(n: number): string {
  if (n < 10) return CHINESE_DIGITS[n];
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  return `${tens === 1 ? '' : CHINESE_DIGITS[tens]}十${ones ? CHINESE_DIGITS[ones] : ''}`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const ordinal = (d: number) => `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`;

export interface CalendarDate {
  readonly year: number;
  /** 1 … 12, 1 … 31. */
  readonly month: number;
  readonly day: number;
}

/**
 * The ways a date is written. Numeric orders are told apart by their separators (slashes are
 * month/day/year, dots and dashes day.month.year, a leading year is year/month/day), so every source
 * has one answer.
 */
export const DATE_FORMATS: ReadonlyArray<{ readonly name: string; readonly write: (d: CalendarDate, weekday: number) => string }> = [
  { name: 'ISO', write: (d) => `${d.year}-${pad2(d.month)}-${pad2(d.day)}` },
  { name: 'day month year', write: (d) => `${d.day} ${MONTHS[d.month - 1]} ${d.year}` },
  { name: 'month day, year', write: (d) => `${MONTHS[d.month - 1]} ${d.day}, ${d.year}` },
  { name: 'short month day, year', write: (d) => `${MONTHS[d.month - 1].slice(0, 3)} ${d.day}, ${d.year}` },
  { name: 'day short month year', write: (d) => `${d.day} ${MONTHS[d.month - 1].slice(0, 3)} ${d.year}` },
  { name: 'US slashes', write: (d) => `${pad2(d.month)}/${pad2(d.day)}/${d.year}` },
  { name: 'US slashes, unpadded', write: (d) => `${d.month}/${d.day}/${d.year}` },
  { name: 'dots', write: (d) => `${pad2(d.day)}.${pad2(d.month)}.${d.year}` },
  { name: 'dots, unpadded', write: (d) => `${d.day}.${d.month}.${d.year}` },
  { name: 'year slashes', write: (d) => `${d.year}/${d.month}/${d.day}` },
  { name: 'compact', write: (d) => `${d.year}${pad2(d.month)}${pad2(d.day)}` },
  { name: 'weekday, month day, year', write: (d, w) => `${WEEKDAYS[w]}, ${MONTHS[d.month - 1]} ${d.day}, ${d.year}` },
  { name: 'short weekday day short month year', write: (d, w) => `${WEEKDAYS[w].slice(0, 3)} ${d.day} ${MONTHS[d.month - 1].slice(0, 3)} ${d.year}` },
  { name: 'ordinal day month year', write: (d) => `${ordinal(d.day)} ${MONTHS[d.month - 1]} ${d.year}` },
  { name: 'month ordinal day, year', write: (d) => `${MONTHS[d.month - 1]} ${ordinal(d.day)}, ${d.year}` },
  { name: 'upper short month', write: (d) => `${MONTHS[d.month - 1].slice(0, 3).toUpperCase()} ${pad2(d.day)} ${d.year}` },
  { name: 'the day of month, year', write: (d) => `the ${ordinal(d.day)} of ${MONTHS[d.month - 1]}, ${d.year}` },
  { name: '年月日', write: (d) => `${d.year}年${d.month}月${d.day}日` },
  { name: '年月日, padded', write: (d) => `${d.year}年${pad2(d.month)}月${pad2(d.day)}日` },
  {
    name: '年月日 in Chinese numerals',
    write: (d) => `${Array.from(String(d.year), (c) => CHINESE_DIGITS[Number(c)]).join('')}年${chineseNumber(d.month)}月${chineseNumber(d.day)}日`,
  },
];

export const TARGET_VOCABULARY: readonly string[] = ['<pad>', '<bos>', '<eos>', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-'];
export const [TARGET_PAD, TARGET_BOS, TARGET_EOS] = [0, 1, 2];

/** Every character a format can write, after the padding id 0. */
export function dateSourceVocabulary(): string[] {
  const chars = new Set<string>();
  const probe = (d: CalendarDate, w: number) => {
    for (const f of DATE_FORMATS) for (const c of f.write(d, w)) chars.add(c);
  };
  for (let m = 1; m <= 12; m++) for (let w = 0; w < 7; w++) probe({ year: 1234567890, month: m, day: 1 + ((m * 7 + w) % 31) }, w);
  for (let d = 1; d <= 31; d++) probe({ year: 2000, month: 1, day: d }, 0);
  return ['<pad>', ...[...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)];
}

export interface DatePair {
  readonly source: string;
  /** YYYY-MM-DD */
  readonly target: string;
}

export interface DateTask {
  readonly sourceVocabulary: readonly string[];
  readonly targetVocabulary: readonly string[];
  /** The longest source (characters): batches are padded to it. */
  readonly maxSourceLength: number;
  readonly train: readonly DatePair[];
  /** Dates none of which appears in `train`, in any format. */
  readonly test: readonly DatePair[];
  /** Source ids of a date string (unknown characters are an error naming them). */
  encodeSource(text: string): Int32Array;
  /** A target's characters from ids (stops at eos; padding and bos dropped). */
  decodeTarget(ids: ArrayLike<number>): string;
  /** Time-major batches of `size` pairs (the last, smaller one kept), in the order given. */
  batches(pairs: readonly DatePair[], size: number): TrainBatch[];
}

export interface DateTaskOptions {
  /** Seeds the dates, their formats and the split. */
  seed?: number;
  /** Distinct dates for training and held out (each date once, in one random format). */
  trainDates?: number;
  testDates?: number;
  /** Years drawn from [first, last]. */
  years?: [number, number];
}

/** The task's pairs: distinct random dates, each in one random format; the held-out dates are other dates. */
export function dateTask(options: DateTaskOptions = {}): DateTask {
  const seed = options.seed ?? 0;
  const [first, last] = options.years ?? [1950, 2049];
  const trainDates = options.trainDates ?? 20000;
  const testDates = options.testDates ?? 1000;
  for (const [k, v] of [
    ['trainDates', trainDates],
    ['testDates', testDates],
    ['seed', seed],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RnnError('OPTION_INVALID', `dateTask options.${k}: expected a non-negative integer, got ${describeValue(v)}`);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1000 || last > 9999 || first > last)
    throw new RnnError('OPTION_INVALID', `dateTask options.years: expected [first, last] within 1000 … 9999, got ${describeValue(options.years)}`);
  const days = (Date.UTC(last + 1, 0, 1) - Date.UTC(first, 0, 1)) / 86_400_000;
  if (trainDates + testDates > days)
    throw new RnnError('OPTION_INVALID', `dateTask options: ${trainDates + testDates} distinct dates asked for, the years hold ${days}`);
  const next = seededUniform(seed);
  // Distinct days, drawn without replacement (a partial Fisher–Yates over the day indices).
  const order = Int32Array.from({ length: days }, (_, i) => i);
  const pairs: DatePair[] = [];
  for (let i = 0; i < trainDates + testDates; i++) {
    const j = i + Math.floor(next() * (days - i));
    [order[i], order[j]] = [order[j], order[i]];
    const date = new Date(Date.UTC(first, 0, 1) + order[i] * 86_400_000);
    const d = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
    const format = DATE_FORMATS[Math.floor(next() * DATE_FORMATS.length)];
    pairs.push({ source: format.write(d, date.getUTCDay()), target: DATE_FORMATS[0].write(d, 0) });
  }
  const sourceVocabulary = dateSourceVocabulary();
  const sourceIds = new Map(sourceVocabulary.map((c, i) => [c, i]));
  const targetIds = new Map(TARGET_VOCABULARY.map((c, i) => [c, i]));
  const maxSourceLength = Math.max(
    ...DATE_FORMATS.map((f) => f.write({ year: 2000, month: 9, day: 30 }, 3).length),
    ...pairs.map((p) => Array.from(p.source).length),
  );
  const encodeSource = (text: string) =>
    Int32Array.from(Array.from(text), (c) => {
      const id = sourceIds.get(c);
      if (id === undefined || id === 0) throw new RnnError('TENSOR_INVALID', `date: character ${JSON.stringify(c)} is not in the source vocabulary`);
      return id;
    });
  return {
    sourceVocabulary,
    targetVocabulary: TARGET_VOCABULARY,
    maxSourceLength,
    train: pairs.slice(0, trainDates),
    test: pairs.slice(trainDates),
    encodeSource,
    decodeTarget(ids) {
      let out = '';
      for (const id of Array.from(ids)) {
        if (id === TARGET_EOS) break;
        if (id > TARGET_EOS) out += TARGET_VOCABULARY[id];
      }
      return out;
    },
    batches(list, size) {
      if (!Number.isSafeInteger(size) || size < 1)
        throw new RnnError('OPTION_INVALID', `batches: size expected a positive integer, got ${describeValue(size)}`);
      const out: TrainBatch[] = [];
      for (let at = 0; at < list.length; at += size) {
        const rows = list.slice(at, at + size);
        const B = rows.length;
        const S = maxSourceLength;
        const T = 10;
        const source = new Int32Array(S * B);
        const lengths = new Int32Array(B);
        const targetIn = new Int32Array(T * B);
        const target = new Int32Array(T * B);
        rows.forEach((p, b) => {
          const ids = encodeSource(p.source);
          lengths[b] = ids.length;
          ids.forEach((id, s) => (source[s * B + b] = id));
          const y = Array.from(p.target, (c) => targetIds.get(c)!);
          for (let t = 0; t < T; t++) {
            target[t * B + b] = y[t];
            targetIn[t * B + b] = t === 0 ? TARGET_BOS : y[t - 1];
          }
        });
        out.push({
          source: { shape: [S, B], data: source },
          source_lengths: lengths,
          target_in: { shape: [T, B], data: targetIn },
          target: { shape: [T, B], data: target },
        });
      }
      return out;
    },
  };
}
