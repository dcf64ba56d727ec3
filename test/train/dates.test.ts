// The date-conversion task's data (src/train/dates.ts): each format written as people write it, every
// source with one answer, the held-out dates absent from training in every format, the same pairs for
// the same seed, and batches the encoder–decoder takes.
import { describe, expect, it } from 'vitest';
import { DATE_FORMATS, TARGET_BOS, TARGET_VOCABULARY, dateTask } from '../../src/train/dates.js';
import { createTrainer } from '../../src/train/trainer.js';

const write = (name: string, year: number, month: number, day: number, weekday = 0) =>
  DATE_FORMATS.find((f) => f.name === name)!.write({ year, month, day }, weekday);

describe('date-conversion task', () => {
  it('writes the formats as people do, Chinese numerals included', () => {
    expect(DATE_FORMATS.length).toBeGreaterThanOrEqual(20);
    expect(write('年月日 in Chinese numerals', 2021, 1, 3)).toBe('二〇二一年一月三日');
    expect(write('年月日 in Chinese numerals', 1999, 12, 31)).toBe('一九九九年十二月三十一日');
    expect(write('年月日 in Chinese numerals', 2010, 10, 20)).toBe('二〇一〇年十月二十日');
    expect(write('年月日 in Chinese numerals', 2011, 11, 11)).toBe('二〇一一年十一月十一日');
    expect(write('年月日', 2021, 1, 3)).toBe('2021年1月3日');
    expect(write('ordinal day month year', 2021, 1, 1)).toBe('1st January 2021');
    expect(write('ordinal day month year', 2021, 1, 12)).toBe('12th January 2021');
    expect(write('month ordinal day, year', 2021, 3, 22)).toBe('March 22nd, 2021');
    expect(write('the day of month, year', 2021, 5, 13)).toBe('the 13th of May, 2021');
    expect(write('US slashes', 2021, 2, 7)).toBe('02/07/2021');
    expect(write('dots', 2021, 2, 7)).toBe('07.02.2021');
  });

  it('gives every source one answer: no two dates write the same string in any two formats', () => {
    const seen = new Map<string, string>();
    for (let day = 0; day < 366 * 3; day++) {
      const date = new Date(Date.UTC(1999, 0, 1) + day * 86_400_000);
      const d = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
      const iso = DATE_FORMATS[0].write(d, 0);
      for (const f of DATE_FORMATS) {
        const s = f.write(d, date.getUTCDay());
        const before = seen.get(s);
        expect(before === undefined || before === iso, `${s}: ${before} and ${iso}`).toBe(true);
        seen.set(s, iso);
      }
    }
  });

  it('holds out whole dates, seeded', () => {
    const a = dateTask({ seed: 3, trainDates: 3000, testDates: 300 });
    const b = dateTask({ seed: 3, trainDates: 3000, testDates: 300 });
    expect(a.train).toEqual(b.train);
    expect(dateTask({ seed: 4, trainDates: 3000, testDates: 300 }).train).not.toEqual(a.train);
    const trained = new Set(a.train.map((p) => p.target));
    expect(trained.size).toBe(3000);
    for (const p of a.test) expect(trained.has(p.target)).toBe(false);
    // Many formats are drawn.
    expect(new Set(a.train.map((p) => p.source.replace(/\d/g, '9'))).size).toBeGreaterThan(40);
  });

  it('makes batches an encoder–decoder trains on', async () => {
    const task = dateTask({ seed: 1, trainDates: 10, testDates: 2 });
    const [batch, last] = task.batches(task.train, 7);
    expect(batch.source!.shape).toEqual([task.maxSourceLength, 7]);
    expect(last.target!.shape).toEqual([10, 3]);
    expect(Array.from(batch.target_in!.data as Int32Array).slice(0, 7)).toEqual(new Array(7).fill(TARGET_BOS));
    // Row 0 decodes back to its pair.
    const ids = Array.from({ length: (batch.source_lengths as Int32Array)[0] }, (_, s) => batch.source!.data[s * 7] as number);
    expect(ids.map((i) => task.sourceVocabulary[i]).join('')).toBe(task.train[0].source);
    expect(task.decodeTarget(Array.from({ length: 10 }, (_, t) => batch.target!.data[t * 7] as number))).toBe(task.train[0].target);
    const trainer = await createTrainer({
      backend: 'cpu',
      model: {
        source_embedding: { num_embeddings: task.sourceVocabulary.length, embedding_dim: 4 },
        target_embedding: { num_embeddings: TARGET_VOCABULARY.length, embedding_dim: 4 },
        encoder: { mode: 'GRU', input_size: 4, hidden_size: 5 },
        decoder: { mode: 'GRU', input_size: 4, hidden_size: 5 },
        attention: { score: 'dot' },
      },
    });
    expect(Number.isFinite((await trainer.trainStep(batch, { readLoss: true })).loss)).toBe(true);
    await trainer.destroy();
  });

  it('names what is wrong', () => {
    expect(() => dateTask({ trainDates: -1 })).toThrow(/dateTask options\.trainDates/);
    expect(() => dateTask({ years: [2000, 2000], trainDates: 400 })).toThrow(/400 distinct dates asked for, the years hold 366/);
    expect(() => dateTask({ seed: 1, trainDates: 1, testDates: 0 }).encodeSource('2021-01-03Z')).toThrow(/"Z" is not in the source vocabulary/);
  });
});
