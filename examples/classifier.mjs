// Sequences of different lengths → a sequence classifier → its accuracy on sequences it has not seen.
//
//   node examples/classifier.mjs        (from a clone, after `npm install`)
//
// The task: a noisy sine wave of 8 to 40 samples; which of three frequencies is it? The sequences are
// padded to the longest and their lengths passed along (PyTorch's packed batch), so each is read only
// as far as it goes, and the head reads the final state h_n of each sequence's own last step.
import { createTrainer } from 'webgpu-rnn';

const T = 40;
const CLASSES = [0.15, 0.3, 0.6]; // radians per sample
let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

/** B sequences, time-major [T, B, 1], their lengths and their classes. */
function makeBatch(B) {
  const input = new Float32Array(T * B);
  const lengths = new Int32Array(B);
  const target = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    target[b] = Math.floor(random() * CLASSES.length);
    lengths[b] = 8 + Math.floor(random() * (T - 8 + 1));
    const phase = random() * 2 * Math.PI;
    for (let t = 0; t < lengths[b]; t++) input[t * B + b] = Math.sin(phase + CLASSES[target[b]] * t) + 0.3 * (2 * random() - 1);
  }
  return { input: { shape: [T, B, 1], data: input }, lengths, target: { shape: [B], data: target } };
}

const train = Array.from({ length: 30 }, () => makeBatch(32));
const test = makeBatch(300);

const trainer = await createTrainer({
  model: {
    rnn: { mode: 'GRU', input_size: 1, hidden_size: 24 },
    head: { out_features: CLASSES.length, on: 'h_n' }, // logits from each sequence's final state
    loss: 'cross_entropy',
  },
  optimizer: { name: 'adam', lr: 0.02 },
  seed: 3,
  backend: 'auto',
});

const report = await trainer.fit(train, { epochs: 6, validation: [makeBatch(100)], readEvery: 30 });
console.log(
  `${trainer.backend}: ${report.steps} steps in ${report.seconds.toFixed(1)} s, validation loss ${report.validation.map(([, l]) => l.toFixed(3)).join(' → ')}`,
);

// Accuracy: the class with the largest logit, on the held-out sequences.
const logits = await trainer.predict({ input: test.input, lengths: test.lengths });
let correct = 0;
for (let b = 0; b < 300; b++) {
  const row = Array.from(logits.data.subarray(b * CLASSES.length, (b + 1) * CLASSES.length));
  if (row.indexOf(Math.max(...row)) === test.target.data[b]) correct++;
}
console.log(`held-out accuracy: ${((100 * correct) / 300).toFixed(1)}% of 300 sequences (chance: 33.3%)`);
await trainer.destroy();
