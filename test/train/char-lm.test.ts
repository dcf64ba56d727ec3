// A real training run and a real round trip through PyTorch:
//  - a character LSTM trained on WebGPU on a real text (the opening of Alice's Adventures in
//    Wonderland) gets clearly below the unigram baseline, on the training text and on held-out text,
//    within a fixed number of steps (the loss is asserted, never a time);
//  - the checkpoint `webgpu-rnn train --text` wrote (test/fixtures/text/alice-lstm.safetensors) loads
//    in PyTorch (test/fixtures/generate_training.py) and gives there the loss and the greedy text it
//    gives here, on both backends;
//  - sampling on the GPU draws what the CPU reference draws, and top-k keeps to the k most likely.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/safetensors.js';
import { resolveModelConfig } from '../../src/train/config.js';
import { sampleReference } from '../../src/train/sample.js';
import { decode, encode, textBatches, unigramLoss, vocabularyOf } from '../../src/train/text.js';
import { createTrainer } from '../../src/train/trainer.js';
import { loadTrainingWeights } from '../../src/train/weights.js';
import { trainModel } from '../../src/train/model.js';
import { modelForward } from '../../src/train/reference-model.js';

const textDir = new URL('../fixtures/text/', import.meta.url);
const corpus = await readFile(new URL('alice.txt', textDir), 'utf8');

describe('a character language model', () => {
  it('trained on WebGPU on a real text, gets clearly below the unigram baseline (training and held-out)', async () => {
    const vocab = vocabularyOf(corpus);
    const ids = encode(vocab, corpus);
    const split = Math.floor(ids.length * 0.9);
    const [train, held] = [ids.subarray(0, split), ids.subarray(split)];
    const batches = textBatches(train, 32, 8);
    const validation = textBatches(held, 32, 4);
    const V = vocab.chars.length;
    const trainer = await createTrainer({
      model: {
        embedding: { num_embeddings: V, embedding_dim: 16 },
        rnn: { mode: 'LSTM', input_size: 16, hidden_size: 64 },
        head: { out_features: V },
        loss: 'cross_entropy',
      },
      optimizer: { name: 'adam', lr: 0.01, clip_grad_norm: 5 },
      init: { forgetBias: 1, seed: 1 },
      seed: 1,
    });
    try {
      const initial = await trainer.evaluate(batches[0]);
      const report = await trainer.fit(batches, { maxSteps: 240, epochs: 100, carryState: true, readEvery: 20, validation, validateEvery: 120 });
      const baseline = unigramLoss(train, V);
      const last = report.losses.at(-1)![1];
      const [, heldOut] = report.validation.at(-1)!;
      console.log(
        `char-LSTM on ${ids.length} characters (${V} distinct): loss ${initial.toFixed(3)} (ln V = ${Math.log(V).toFixed(3)}) → ${last.toFixed(3)} after ${report.steps} steps, held-out ${heldOut.toFixed(3)}, unigram ${baseline.toFixed(3)} nats/char`,
      );
      expect(report.steps).toBe(240);
      expect(Math.abs(initial - Math.log(V))).toBeLessThan(0.3); // it starts near a uniform guess, above the baseline …
      expect(last).toBeLessThan(baseline - 0.5); // … and ends well below
      expect(heldOut).toBeLessThan(baseline - 0.2);
    } finally {
      await trainer.destroy();
    }
  });

  it("the checkpoint webgpu-rnn trained gives PyTorch's loss and greedy text (PyTorch loaded the same file)", async () => {
    const bytes = new Uint8Array(await readFile(new URL('alice-lstm.safetensors', textDir)));
    const torchSide = JSON.parse(await readFile(new URL('alice-lstm.pytorch.json', textDir), 'utf8'));
    const file = readSafetensors(bytes);
    const model = resolveModelConfig(JSON.parse(file.metadata.model));
    const chars: string[] = JSON.parse(file.metadata.vocabulary);
    const vocab = { chars, ids: new Map(chars.map((c, i) => [c, i])) };
    const ids = encode(vocab, corpus);
    const { T, B, stream_stride: stride } = torchSide.batch;
    const tokens = new Int32Array(T * B);
    const target = new Int32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) [tokens[t * B + b], target[t * B + b]] = [ids[b * stride + t], ids[b * stride + t + 1]];
    const batch = { tokens: { shape: [T, B], data: tokens }, target: { shape: [T, B], data: target } };
    for (const backend of ['webgpu', 'cpu'] as const) {
      const trainer = await createTrainer({ model, weights: file, backend });
      try {
        const loss = await trainer.evaluate(batch);
        expect(Math.abs(loss - torchSide.loss) / torchSide.loss, `${backend} loss ${loss} vs PyTorch ${torchSide.loss}`).toBeLessThan(1e-5);
        const greedy = await trainer.sample(encode(vocab, torchSide.prompt), { temperature: 0, maxTokens: torchSide.greedy_ids.length });
        expect(decode(vocab, greedy), backend).toBe(torchSide.greedy_text);
      } finally {
        await trainer.destroy();
      }
    }
  });

  it('sampling on the GPU draws what the CPU reference draws; top-k keeps to the k most likely', async () => {
    const file = readSafetensors(new Uint8Array(await readFile(new URL('alice-lstm.safetensors', textDir))));
    const model = resolveModelConfig(JSON.parse(file.metadata.model));
    const params = loadTrainingWeights(model, file);
    const prompt = Int32Array.from([5, 17, 30, 2]);
    const gpu = await createTrainer({ model, weights: file });
    try {
      for (const [temperature, topK, seed] of [
        [1, 0, 3],
        [0.7, 5, 4],
        [2, 3, 5],
      ] as const) {
        const got = await gpu.sample(prompt, { temperature, topK, seed, maxTokens: 30 });
        expect(got, `τ=${temperature} k=${topK}`).toEqual(sampleReference(model, params, prompt, { temperature, topK, seed, maxTokens: 30 }));
        if (!topK) continue;
        // Every drawn token is among the top k of the reference's logits at its position.
        const all = Int32Array.from([...prompt, ...got]);
        const cache = modelForward(
          trainModel(model),
          params,
          { T: all.length, B: 1, tokens: all, target: new Int32Array(all.length) },
          { training: false, seed: 0 },
        );
        const V = model.head!.out_features;
        got.forEach((token, k) => {
          const logits = cache.y.subarray((prompt.length - 1 + k) * V, (prompt.length + k) * V);
          expect(logits.filter((v) => v > logits[token]).length).toBeLessThan(topK);
        });
      }
      // Different seeds give different text at τ = 1.
      expect(await gpu.sample(prompt, { seed: 1, maxTokens: 30 })).not.toEqual(await gpu.sample(prompt, { seed: 2, maxTokens: 30 }));
    } finally {
      await gpu.destroy();
    }
  });
});
