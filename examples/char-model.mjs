// Text → a character language model → a continuation of a prompt, with the library's API.
//
//   node examples/char-model.mjs [corpus.txt]        (from a clone, after `npm install`)
//
// Without a file it trains on a few everyday Chinese sentences, so "今天天气很" has answers. It runs on
// WebGPU where there is one (Dawn in Node, the `webgpu` package) and on the float64 CPU backend
// otherwise (backend 'auto').
import { readFile } from 'node:fs/promises';
import { createTrainer, decode, encode, textBatches, unigramLoss, vocabularyOf } from 'webgpu-rnn';

const sentences = ['今天天气很好。', '今天天气很热。', '明天天气很冷。', '今天下雨了。', '明天天气很好，我们去公园。', '今天很忙，明天不忙。'];
const text = process.argv[2] ? await readFile(process.argv[2], 'utf8') : Array.from({ length: 60 }, (_, i) => sentences[(i * 7) % sentences.length]).join('');

// The characters of the text are the vocabulary; ids are their positions in it.
const vocab = vocabularyOf(text);
const ids = encode(vocab, text);
const V = vocab.chars.length;

// 16 streams through the text, windows of 24 characters; window k continues window k − 1, so the
// state is carried from batch to batch (truncated backpropagation through time).
const batches = textBatches(ids, 24, 16);

const trainer = await createTrainer({
  model: {
    embedding: { num_embeddings: V, embedding_dim: 16 },
    rnn: { mode: 'LSTM', input_size: 16, hidden_size: 64 },
    head: { out_features: V, on: 'output' },
    loss: 'cross_entropy',
  },
  optimizer: { name: 'adam', lr: 0.01, clip_grad_norm: 5 },
  init: { forgetBias: 1, seed: 1 },
  seed: 1,
  backend: 'auto',
});

const report = await trainer.fit(batches, { epochs: 40, carryState: true, readEvery: 10 });
const [, loss] = report.losses.at(-1);
console.log(
  `${trainer.backend}: ${report.steps} steps in ${report.seconds.toFixed(1)} s, loss ${loss.toFixed(3)} nats/character (unigram baseline ${unigramLoss(ids, V).toFixed(3)})`,
);

// The most likely continuation (temperature 0), then a sampled one.
const prompt = process.argv[2] ? Array.from(text).slice(0, 5).join('') : '今天天气很';
for (const temperature of [0, 0.8]) {
  const next = await trainer.sample(encode(vocab, prompt), { temperature, maxTokens: 12, seed: 7 });
  console.log(`τ = ${temperature}: ${prompt}${decode(vocab, next)}`);
}
await trainer.destroy();
