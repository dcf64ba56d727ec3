// A long training run that must lose nothing: a character LSTM (embedding 32, 2 × LSTM 128, B 16,
// T 64) trained with fit for --steps steps (default 20,000) on WebGPU, sampling every --every steps
// (default 1,000) the loss, the process's RSS and the GPU buffers (in use, pooled, created) — which
// must stay flat — and, in the middle, a checkpoint and a resume in a new trainer: the
// resumed run's next --check steps (default 50) must give the losses of the trainer that went on, bit
// for bit, and then the run continues from the resumed trainer. A benchmark-like script, not a timed
// test: it prints the series and ends non-zero if a loss is not finite, the resumed losses differ, or
// the live GPU buffers grew.
//
//   node scripts/soak.mjs [--steps 20000] [--every 1000] [--check 50] [--text corpus.txt] [--backend webgpu|cpu]
//
// From a clone after `npm install` (it imports the built package, dist/).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTrainer, deviceDiagnostics, encode, textBatches, vocabularyOf } from 'webgpu-rnn';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '20000' },
    every: { type: 'string', default: '1000' },
    check: { type: 'string', default: '50' },
    text: { type: 'string', default: fileURLToPath(new URL('../test/fixtures/text/alice.txt', import.meta.url)) },
    backend: { type: 'string', default: 'webgpu' },
  },
});
const steps = Number(values.steps);
const every = Number(values.every);
const check = Number(values.check);
const text = await readFile(values.text, 'utf8');
const vocab = vocabularyOf(text);
const batches = textBatches(encode(vocab, text), 64, 16);
const V = vocab.chars.length;
const options = {
  model: {
    embedding: { num_embeddings: V, embedding_dim: 32 },
    rnn: { mode: 'LSTM', input_size: 32, hidden_size: 128, num_layers: 2 },
    head: { out_features: V },
    loss: 'cross_entropy',
  },
  optimizer: { name: 'adam', lr: 0.002, clip_grad_norm: 5, lr_schedule: { name: 'cosine', T_max: steps } },
  init: { forgetBias: 1, seed: 1 },
  seed: 1,
  backend: values.backend,
};

const MiB = (bytes) => (bytes / 2 ** 20).toFixed(1);
const rows = [];
let failed = false;
const sample = async (trainer, step, loss) => {
  const gpu = trainer.backend === 'webgpu' ? (await deviceDiagnostics()).buffers : undefined;
  const row = {
    step,
    loss,
    rss: process.memoryUsage().rss,
    inUse: gpu?.inUse ?? 0,
    pooled: gpu?.pooled ?? 0,
    liveBytes: gpu?.liveBytes ?? 0,
    created: gpu?.created ?? 0,
  };
  rows.push(row);
  console.log(
    `step ${String(step).padStart(6)}  loss ${loss.toFixed(4)}  RSS ${MiB(row.rss)} MiB  GPU buffers in use ${row.inUse}, pooled ${row.pooled} ` +
      `(${MiB(row.liveBytes)} MiB alive), created ${row.created}`,
  );
  if (!Number.isFinite(loss)) failed = true;
};

/** fit from `from` to `to`, sampling every `every` steps; returns the losses of every step. */
async function run(trainer, from, to) {
  const losses = [];
  const report = await trainer.fit(batches, {
    epochs: Math.ceil(to / batches.length),
    maxSteps: to,
    startStep: from,
    carryState: true,
    onProgress: async (p) => {
      losses.push(p.loss);
      if (p.step % every === 0) await sample(trainer, p.step, p.loss);
    },
  });
  if (report.stopped !== 'done') {
    console.log(`stopped: ${report.stopped} ${report.nonFinite?.message ?? ''}`);
    failed = true;
  }
  return losses;
}

const started = performance.now();
const middle = Math.floor(steps / 2);
let trainer = await createTrainer(options);
await run(trainer, 0, middle);
// The checkpoint and resume in the middle: the resumed trainer's next steps equal the original's.
const bytes = await trainer.checkpoint();
const resumed = await createTrainer({ resume: bytes, backend: values.backend });
const going = await run(trainer, middle, middle + check);
const again = await run(resumed, middle, middle + check);
const same = going.length === again.length && going.every((l, i) => Object.is(l, again[i]));
console.log(`checkpoint of ${MiB(bytes.length)} MiB at step ${middle}: the resumed trainer's ${check} steps ${same ? 'equal' : 'DIFFER from'} the original's`);
if (!same) failed = true;
await trainer.destroy();
trainer = resumed;
await run(trainer, middle + check, steps);
await trainer.destroy();

// Flat: one trainer holds as many GPU buffers at the end as at the first sample (the buffers of the
// trainer the resume replaced go back to the engine's pool, for reuse, and are counted apart), and after
// the resume no sample creates any.
const [first, last] = [rows[0], rows.at(-1)];
const afterResume = rows.filter((r) => r.step > middle + check);
const creating = afterResume.length > 1 && afterResume.at(-1).created > afterResume[0].created;
if (first && last && trainer.backend === 'webgpu' && (last.inUse > first.inUse || creating)) {
  console.log(`GPU buffers grew: in use ${first.inUse} → ${last.inUse}, created ${afterResume[0]?.created} → ${last.created} after the resume`);
  failed = true;
}
console.log(
  `${steps} steps in ${((performance.now() - started) / 1000).toFixed(0)} s; RSS ${MiB(first?.rss ?? 0)} → ${MiB(last?.rss ?? 0)} MiB; ` +
    `GPU buffers in use ${first?.inUse} → ${last?.inUse}; ${failed ? 'FAILED' : 'ok'}`,
);
process.exit(failed ? 1 : 0);
