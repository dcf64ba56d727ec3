// The encoder–decoder through the built `webgpu-rnn`, on the PyTorch fixtures written as a user's files:
// `grad` and `train` take a seq2seq --model and batch (both backends), `gradcheck` checks its reference,
// and `decode` writes tokens, lengths, scores and attention — the trainer's own decoding, in the
// documented dtypes and shapes; mistakes are one line with a code.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/safetensors.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import { createTrainer } from '../../src/train/trainer.js';
import { expectUserError, runCli } from '../support/cli.js';
import { expectClose } from '../support/compare.js';
import { loadNodeBytes } from '../support/node-fixtures.js';
import { loadSeq2SeqFixture, seq2seqCases } from '../support/seq2seq-fixtures.js';

const cases = await seq2seqCases(loadNodeBytes);
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-seq2seq-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function files(name: string) {
  const meta = cases.find((c) => c.name === name)!;
  const f = await loadSeq2SeqFixture(loadNodeBytes, meta);
  const p = (s: string) => join(dir, `${name}.${s}`);
  await writeFile(p('model.json'), JSON.stringify(meta.model));
  await writeFile(p('weights.safetensors'), writeSafetensors(f.params, { floatDtype: 'F32' }));
  const batch = Object.fromEntries(Object.entries(f.batch).filter(([, v]) => v !== undefined)) as Record<string, Tensor | IntTensor>;
  await writeFile(p('batch.safetensors'), writeSafetensors(batch));
  const { target: _t, target_in: _ti, ...source } = batch;
  await writeFile(p('source.safetensors'), writeSafetensors(source));
  if (meta.optimizer) await writeFile(p('opt.json'), JSON.stringify(meta.optimizer));
  return { meta, f, p };
}

const common = (p: (s: string) => string) => ['--model', p('model.json'), '--weights', p('weights.safetensors')];

describe('webgpu-rnn with an encoder–decoder', () => {
  it.each([
    ['lstm_bi_2l_general_after_copy', 'webgpu'],
    ['lstm_2l_general_before_copy', 'cpu'],
  ] as const)("grad %s --backend %s writes PyTorch's loss and gradients", async (name, backend) => {
    const { f, p } = await files(name);
    const out = p(`grads.${backend}.safetensors`);
    const r = await runCli(['grad', ...common(p), '--batch', p('batch.safetensors'), '--out', out, '--backend', backend]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const t = readSafetensors(new Uint8Array(await readFile(out))).tensors;
    expect(Math.abs((t.loss as Tensor).data[0] - f.loss) / f.loss).toBeLessThan(1e-5);
    for (const [k, want] of Object.entries(f.grads)) expectClose(`grad.${k}`, t[`grad.${k}`] as Tensor, want, 1e-4);
  });

  it("train traj_lstm_dot_after_copy_adam --backend webgpu follows PyTorch's trajectory; gradcheck passes", async () => {
    const { meta, f, p } = await files('traj_lstm_dot_after_copy_adam');
    const out = p('trained.safetensors');
    const r = await runCli([
      'train',
      ...common(p),
      '--batch',
      p('batch.safetensors'),
      '--optimizer',
      p('opt.json'),
      '--steps',
      String(meta.steps),
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const t = readSafetensors(new Uint8Array(await readFile(out))).tensors;
    expectClose('losses', t.losses as Tensor, { shape: [meta.steps!], data: f.losses! }, 1e-4);
    const check = await runCli(['gradcheck', ...common(p), '--batch', p('batch.safetensors')]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/max relative error .* ≤ 1e-6/);
  });

  it.each(['webgpu', 'cpu'] as const)("decode --backend %s writes the trainer's decoding: tokens, lengths, score, attention", async (backend) => {
    const { meta, f, p } = await files('lstm_bi_2l_general_after_copy');
    const out = p(`decoded.${backend}.safetensors`);
    const r = await runCli([
      'decode',
      ...common(p),
      '--batch',
      p('source.safetensors'),
      '--bos',
      '1',
      '--eos',
      '2',
      '--max-length',
      '6',
      '--beam',
      '3',
      '--out',
      out,
      '--backend',
      backend,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = readSafetensors(new Uint8Array(await readFile(out)));
    expect(file.dtypes).toEqual({ tokens: 'I32', lengths: 'I32', score: 'F32', attention: 'F32' });
    const B = meta.B;
    expect(file.tensors.tokens.shape).toEqual([B, 6]);
    expect(file.tensors.attention.shape).toEqual([B, 6, meta.S]);
    const trainer = await createTrainer({ model: meta.model, weights: f.params, backend: 'cpu' });
    const want = await trainer.decode(f.batch.source as IntTensor, { bos: 1, eos: 2, maxLength: 6, beam: 3, sourceLengths: f.batch.source_lengths });
    await trainer.destroy();
    expect(Array.from(file.tensors.tokens.data as Int32Array)).toEqual(Array.from(want.tokens.data));
    expect(Array.from(file.tensors.lengths.data as Int32Array)).toEqual(Array.from(want.lengths));
    expectClose('score', file.tensors.score as Tensor, { shape: [B], data: want.score }, 1e-5);
    expectClose('attention', file.tensors.attention as Tensor, want.attention, 1e-4);
  });

  it('decode mistakes are one line with a code', async () => {
    const { p } = await files('gru_general_after_zeros');
    const base = ['decode', ...common(p), '--batch', p('source.safetensors'), '--max-length', '4', '--out', p('x.safetensors')];
    expectUserError(
      await runCli([...base, '--bos', '99', '--eos', '2']),
      'OPTION_INVALID',
      /decode options\.bos: expected an integer in \[0, \d+\], got 99/,
      p('x.safetensors'),
    );
    expectUserError(await runCli([...base, '--bos', '1', '--eos', '2', '--beam', '0']), 'USAGE', /--beam must be an integer ≥ 1, got "0"/, p('x.safetensors'));
    expectUserError(await runCli([...base, '--bos', '1']), 'USAGE', /missing --eos/, p('x.safetensors'));
    expectUserError(
      await runCli(['decode', ...common(p), '--batch', p('batch.safetensors'), '--bos', '1', '--eos', '2', '--max-length', '4', '--out', p('x.safetensors')]),
      'TENSOR_INVALID',
      /unexpected tensor\(s\) .*target.* \(expected source, source_lengths\)/,
      p('x.safetensors'),
    );
  });
});
