/**
 * The encoder–decoder issue's accuracy goal, run in the browser: TensorFlow.js's date-conversion
 * model (Embedding 64, LSTM 64 encoder and decoder, the encoder's state copied in, dot attention after
 * the decoder, Dense 64 tanh, Dense 13) trained on WebGPU for two epochs of the date task
 * (src/train/dates.ts: 20,000 dates, each in one of its formats; 1,000 other dates held out), then
 * greedy decoding of every held-out date on the GPU, exact match counted after each epoch. Batches
 * of 64, Adam at 0.01 with a cosine schedule over the two epochs. Publishes `window.__dates` for
 * test/browser.test.ts; failure is published, never thrown.
 */
import { getDefaultDevice } from '../../src/gpu/device.js';
import { TARGET_BOS, TARGET_EOS, dateTask } from '../../src/train/dates.js';
import { createTrainer } from '../../src/train/trainer.js';

export interface DatesReport {
  done: boolean;
  error?: string;
  /** Exact match on the held-out dates after each epoch. */
  accuracy: number[];
  /** Seconds from the first step to the end of each epoch's evaluation. */
  seconds: number[];
  steps: number;
  /** A held-out date and what the model made of it, for the log. */
  example?: string;
}

declare global {
  interface Window {
    __dates?: DatesReport;
  }
}

export const DATE_RUN = { epochs: 2, batch: 64, lr: 0.01, seed: 1 } as const;

async function run(report: DatesReport): Promise<void> {
  const status = document.getElementById('status')!;
  const task = dateTask({ seed: DATE_RUN.seed });
  const batches = task.batches(task.train, DATE_RUN.batch);
  const steps = DATE_RUN.epochs * batches.length;
  const trainer = await createTrainer({
    model: {
      source_embedding: { num_embeddings: task.sourceVocabulary.length, embedding_dim: 64 },
      target_embedding: { num_embeddings: task.targetVocabulary.length, embedding_dim: 64 },
      encoder: { mode: 'LSTM', input_size: 64, hidden_size: 64 },
      decoder: { mode: 'LSTM', input_size: 64, hidden_size: 64 },
      bridge: 'copy',
      attention: { score: 'dot', placement: 'after', combine_size: 64 },
    },
    optimizer: { name: 'adam', lr: DATE_RUN.lr, lr_schedule: { name: 'cosine', T_max: steps } },
    seed: DATE_RUN.seed,
    device: await getDefaultDevice(),
  });
  const held = task.batches(task.test, 500);
  const accuracy = async (): Promise<number> => {
    let right = 0;
    let at = 0;
    for (const b of held) {
      const rows = b.source!.shape[1];
      // Targets are the 10 characters of YYYY-MM-DD (no eos): decode exactly that many.
      const out = await trainer.decode(b.source!, { bos: TARGET_BOS, eos: TARGET_EOS, maxLength: 10, sourceLengths: b.source_lengths });
      for (let r = 0; r < rows; r++) {
        const got = task.decodeTarget(out.tokens.data.subarray(r * 10, (r + 1) * 10));
        if (got === task.test[at + r].target) right++;
        if (at + r === 0) report.example = `${task.test[0].source} → ${got}`;
      }
      at += rows;
    }
    return right / task.test.length;
  };
  const t0 = performance.now();
  try {
    for (let e = 0; e < DATE_RUN.epochs; e++) {
      for (const b of batches) {
        await trainer.trainStep(b);
        report.steps++;
        if (report.steps % 50 === 0) status.textContent = `step ${report.steps} of ${steps}`;
      }
      report.accuracy.push(await accuracy());
      report.seconds.push((performance.now() - t0) / 1000);
      status.textContent = `epoch ${e + 1}: ${(100 * report.accuracy[e]).toFixed(1)}% exact match on held-out dates`;
    }
  } finally {
    await trainer.destroy();
  }
}

const report: DatesReport = { done: false, accuracy: [], seconds: [], steps: 0 };
window.__dates = report;
run(report)
  .catch((e: unknown) => {
    report.error = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
  })
  .finally(() => {
    report.done = true;
  });
