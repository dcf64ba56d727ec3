// The training commands end to end (the built `webgpu-rnn`), on PyTorch fixtures written as the files
// a user would have: `grad` writes loss, grad_norm and every grad.<name> (F32), `train` every parameter
// and the losses; both backends; and `gradcheck` on the CPU reference.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/safetensors.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import { runCli } from '../support/cli.js';
import { expectClose } from '../support/compare.js';
import { loadNodeBytes } from '../support/node-fixtures.js';
import { loadTrainingFixture, trainingCases } from '../support/training-fixtures.js';

const cases = await trainingCases(loadNodeBytes);
const corpusPath = fileURLToPath(new URL('../fixtures/text/alice.txt', import.meta.url));
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-train-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Dawn's adapter warnings dropped: these tests read stderr whole. */
const run = runCli;

async function files(name: string) {
  const meta = cases.find((c) => c.name === name)!;
  const f = await loadTrainingFixture(loadNodeBytes, meta);
  const p = (s: string) => join(dir, `${name}.${s}`);
  await writeFile(p('model.json'), JSON.stringify(meta.model));
  await writeFile(p('weights.safetensors'), writeSafetensors(f.params, { floatDtype: 'F64' }));
  const batch: Record<string, Tensor | IntTensor> = Object.fromEntries(Object.entries(f.batch).filter(([, v]) => v !== undefined)) as never;
  await writeFile(p('batch.safetensors'), writeSafetensors(batch, { floatDtype: 'F64' }));
  if (meta.optimizer) await writeFile(p('opt.json'), JSON.stringify(meta.optimizer));
  return { meta, f, p };
}

describe('webgpu-rnn grad / train / gradcheck', () => {
  it.each([
    ['lstm_2l_bi_proj_h0_len_ce', 'webgpu'],
    ['gru_emb_hn_bf', 'cpu'],
    ['gru_emb_hn_bf', 'webgpu'],
  ] as const)("grad %s --backend %s writes PyTorch's loss, norm and gradients", async (name, backend) => {
    const { f, p } = await files(name);
    const r = await run([
      'grad',
      '--model',
      p('model.json'),
      '--weights',
      p('weights.safetensors'),
      '--batch',
      p('batch.safetensors'),
      '--out',
      p(`grads.${backend}.safetensors`),
      '--backend',
      backend,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = readSafetensors(new Uint8Array(await readFile(p(`grads.${backend}.safetensors`))));
    expect(Object.values(out.dtypes).every((d) => d === 'F32')).toBe(true);
    expect((out.tensors.loss as Tensor).shape).toEqual([]);
    expect(Math.abs((out.tensors.loss as Tensor).data[0] - f.loss) / f.loss).toBeLessThan(1e-5);
    let norm = 0;
    for (const g of Object.values(f.grads)) for (const v of g.data) norm += v * v;
    expect(Math.abs((out.tensors.grad_norm as Tensor).data[0] - Math.sqrt(norm)) / Math.sqrt(norm)).toBeLessThan(1e-5);
    expect(
      Object.keys(out.tensors)
        .filter((k) => k.startsWith('grad.'))
        .sort(),
    ).toEqual(
      Object.keys(f.grads)
        .map((k) => `grad.${k}`)
        .sort(),
    );
    for (const [k, want] of Object.entries(f.grads)) expectClose(`grad.${k}`, out.tensors[`grad.${k}`] as Tensor, want, 1e-4);
  });

  it.each([
    ['traj_adam_amsgrad_wd_cosine', 'webgpu'],
    ['traj_rmsprop_centered_momentum', 'cpu'],
  ] as const)("train %s --backend %s follows PyTorch's trajectory", async (name, backend) => {
    const { meta, f, p } = await files(name);
    const r = await run([
      'train',
      '--model',
      p('model.json'),
      '--weights',
      p('weights.safetensors'),
      '--batch',
      p('batch.safetensors'),
      '--optimizer',
      p('opt.json'),
      '--steps',
      String(meta.steps),
      '--out',
      p(`trained.${backend}.safetensors`),
      '--backend',
      backend,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = readSafetensors(new Uint8Array(await readFile(p(`trained.${backend}.safetensors`))));
    expectClose('losses', out.tensors.losses as Tensor, { shape: [meta.steps!], data: f.losses! }, 1e-4);
    for (const [k, want] of Object.entries(f.final!)) {
      const p0 = f.params[k].data;
      const got = out.tensors[k] as Tensor;
      expectClose(
        `update of ${k}`,
        { shape: got.shape, data: Float64Array.from(got.data, (v, i) => v - p0[i]) },
        { shape: want.shape, data: Float64Array.from(want.data, (v, i) => v - p0[i]) },
        1e-3,
      );
    }
  });

  it('train --checkpoint writes the run, train --resume continues it: k + (N − k) steps are N steps, bit for bit', async () => {
    const { meta, p } = await files('traj_adam_amsgrad_wd_cosine');
    const N = meta.steps!;
    const k = 1;
    const common = ['--batch', p('batch.safetensors'), '--backend', 'cpu'];
    const start = ['--model', p('model.json'), '--weights', p('weights.safetensors'), '--optimizer', p('opt.json')];
    const straight = await run(['train', ...start, ...common, '--steps', String(N), '--out', p('straight.safetensors')]);
    expect(straight.stderr).toBe('');
    const first = await run(['train', ...start, ...common, '--steps', String(k), '--out', p('first.safetensors'), '--checkpoint', p('ck.safetensors')]);
    expect(first.stderr).toBe('');
    const rest = await run(['train', '--resume', p('ck.safetensors'), ...common, '--steps', String(N - k), '--out', p('rest.safetensors')]);
    expect(rest.stderr).toBe('');
    expect(rest.code).toBe(0);
    const read = async (s: string) => readSafetensors(new Uint8Array(await readFile(p(s)))).tensors;
    const [want, a, b] = [await read('straight.safetensors'), await read('first.safetensors'), await read('rest.safetensors')];
    expect([...(a.losses as Tensor).data, ...(b.losses as Tensor).data]).toEqual([...(want.losses as Tensor).data]);
    for (const name of Object.keys(want).filter((n) => n !== 'losses')) expect([...(b[name] as Tensor).data], name).toEqual([...(want[name] as Tensor).data]);
    // With --resume the checkpoint brings the model, the weights and the optimizer; naming one is a usage error.
    const both = await run(['train', '--resume', p('ck.safetensors'), '--model', p('model.json'), ...common, '--steps', '1', '--out', p('x.safetensors')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--model: not with --resume/);
    const notOne = await run(['train', '--resume', p('weights.safetensors'), ...common, '--steps', '1', '--out', p('x.safetensors')]);
    expect(notOne.code).toBe(1);
    expect(notOne.stderr).toMatch(/--resume .*weights\.safetensors: checkpoint: this safetensors file is not a training checkpoint/);
  });

  it('gradcheck passes on the reference, and says so', async () => {
    const { p } = await files('rnn_tanh_bi_len_mse');
    const r = await run(['gradcheck', '--model', p('model.json'), '--weights', p('weights.safetensors'), '--batch', p('batch.safetensors')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/max relative error \d\.\d\de-\d+ ≤ 1e-6/);
  });

  it('train --text trains a character model with progress and a checkpoint PyTorch can load; sample continues a Chinese prompt', async () => {
    const text = '今天天气很好。今天天气很热。明天天气很冷，后天天气很好。我们今天去公园，天气很好，风也很小。'.repeat(12);
    await writeFile(join(dir, 'zh.txt'), text);
    const out = join(dir, 'zh.safetensors');
    const r = await run([
      'train',
      '--text',
      join(dir, 'zh.txt'),
      '--out',
      out,
      '--hidden',
      '24',
      '--layers',
      '2',
      '--embedding',
      '8',
      '--seq-len',
      '16',
      '--batch-size',
      '4',
      '--steps',
      '30',
      '--lr',
      '0.02',
      '--validation',
      '0.2',
      '--validate-every',
      '10',
    ]);
    expect(r.stderr).toMatch(/step 30\/30 loss \d\.\d{3} val \d\.\d{3} \| \d+ chars\/s \| ETA 0s\n$/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^30 steps \(done\) in \d+s: loss \d\.\d{4}, best validation \d\.\d{4} nats\/char \(unigram baseline \d\.\d{4}\); 19 characters; wrote /,
    );
    const file = readSafetensors(new Uint8Array(await readFile(out)));
    const vocabulary = JSON.parse(file.metadata.vocabulary);
    expect(vocabulary).toHaveLength(19);
    expect(vocabulary).toContain('很');
    expect(Object.keys(file.tensors).sort()).toEqual(
      [
        'embedding.weight',
        'head.bias',
        'head.weight',
        ...[0, 1].flatMap((l) => [`rnn.bias_hh_l${l}`, `rnn.bias_ih_l${l}`, `rnn.weight_hh_l${l}`, `rnn.weight_ih_l${l}`]),
      ].sort(),
    );
    expect(Number(file.metadata.validation_loss)).toBeGreaterThan(0);
    for (const backend of ['webgpu', 'cpu']) {
      const s = await run(['sample', '--checkpoint', out, '--prompt', '今天天气很', '--length', '6', '--temperature', '0', '--backend', backend]);
      expect(s.stderr).toBe('');
      expect(s.code).toBe(0);
      expect(Array.from(s.stdout.trimEnd())).toHaveLength(11);
      expect(s.stdout.startsWith('今天天气很')).toBe(true);
    }
    // The launcher passes the progress bar on as it comes and keeps Dawn's adapter lines out (runCli
    // checks every command for that); the sample is one line.
    const again = await run(['sample', '--checkpoint', out, '--prompt', '今天', '--length', '3', '--temperature', '0']);
    expect(again.stdout).toMatch(/^今天[^\n]{3}\n$/u);
    const bad = await run(['sample', '--checkpoint', out, '--prompt', '今天下雨']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe('webgpu-rnn: --prompt: "下", "雨" not in the model\'s vocabulary of 19 characters [TENSOR_INVALID]');
  });

  it('train --text stops at a loss that is not finite with one line, keeping the last finite parameters', async () => {
    const out = join(dir, 'diverged.safetensors');
    // A ReLU RNN at lr 10 overflows f32 on WebGPU within a few steps.
    const r = await run([
      'train',
      '--text',
      corpusPath,
      '--out',
      out,
      '--mode',
      'RNN_RELU',
      '--hidden',
      '16',
      '--layers',
      '1',
      '--seq-len',
      '8',
      '--batch-size',
      '4',
      '--steps',
      '40',
      '--lr',
      '10',
      '--validation',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(
      /^webgpu-rnn: training step (\d+): the (loss|gradient norm) was \S+ \(not finite\), so it made no update; .* holds the last finite parameters \(step \d+\) \[NON_FINITE\]$/,
    );
    const step = Number(/training step (\d+)/.exec(lines.at(-1)!)![1]);
    const file = readSafetensors(new Uint8Array(await readFile(out)));
    expect(Number(file.metadata.steps)).toBe(step - 1);
    expect(Object.values(file.tensors).every((t) => Array.from(t.data as Float32Array).every(Number.isFinite))).toBe(true);
  });

  it.each([
    [['grad', '--model', 'nope.json'], 2, /missing --weights \[USAGE\]/],
    [['train', '--steps', '0', '--model', 'm', '--weights', 'w', '--batch', 'b', '--optimizer', 'o', '--out', 'x'], 1, /--model m: no such file \[FILE\]/],
    [['train', '--text', 'corpus.txt'], 2, /missing --out \[USAGE\]/],
    [['train', '--text', 'nope.txt', '--out', 'x', '--seq-len', '0'], 2, /--seq-len must be an integer ≥ 1, got "0" \[USAGE\]/],
    [['train', '--text', 'nope.txt', '--out', 'x'], 1, /--text nope.txt: no such file \[FILE\]/],
    [['train', '--text', corpusPath, '--out', 'x', '--mode', 'LSTM', '--model', 'm.json'], 2, /--mode and --model exclude each other/],
    [
      ['train', '--text', corpusPath, '--out', 'x', '--recurrent-dropout', '1'],
      2,
      /^webgpu-rnn: --recurrent-dropout: expected a number in \[0, 1\), got 1 \[USAGE\]$/,
    ],
    [['sample', '--prompt', 'a'], 2, /missing --checkpoint \[USAGE\]/],
    [['sample', '--checkpoint', 'nope.safetensors', '--prompt', 'a'], 1, /--checkpoint nope.safetensors: no such file \[FILE\]/],
  ] as const)('mistakes are one line with a code: %j', async (args, code, message) => {
    const r = await run([...args]);
    expect(r.code).toBe(code);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('webgpu-rnn train --text: checkpoints, resume, Ctrl-C', () => {
  // With recurrent dropout: its masks follow from the seed and the step, so a resumed run draws the same ones.
  const small = [
    '--hidden',
    '8',
    '--layers',
    '1',
    '--embedding',
    '4',
    '--recurrent-dropout',
    '0.2',
    '--seq-len',
    '16',
    '--batch-size',
    '4',
    '--validation',
    '0',
    '--backend',
    'cpu',
  ];
  const weights = async (path: string) =>
    Object.entries(readSafetensors(new Uint8Array(await readFile(path))).tensors).map(([k, t]) => [k, [...(t as Tensor).data]]);

  it('a run stopped at step 5 and resumed to step 9 ends with the weights of a run of 9 steps, bit for bit', async () => {
    const straight = await run(['train', '--text', corpusPath, '--out', join(dir, 'straight9.safetensors'), '--steps', '9', ...small]);
    expect(straight.code, straight.stderr).toBe(0);
    const first = await run([
      'train',
      '--text',
      corpusPath,
      '--out',
      join(dir, 'first5.safetensors'),
      '--steps',
      '5',
      '--checkpoint',
      join(dir, 'text.ck'),
      ...small,
    ]);
    expect(first.code, first.stderr).toBe(0);
    // The model, optimizer, seed and the run's shape come from the checkpoint; --steps gives the new end.
    const rest = await run([
      'train',
      '--text',
      corpusPath,
      '--out',
      join(dir, 'rest9.safetensors'),
      '--resume',
      join(dir, 'text.ck'),
      '--steps',
      '9',
      '--backend',
      'cpu',
    ]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(/^9 steps/);
    expect(await weights(join(dir, 'rest9.safetensors'))).toEqual(await weights(join(dir, 'straight9.safetensors')));
    // Another text, or a model option, is refused by name.
    await writeFile(join(dir, 'other.txt'), 'another text entirely, with other letters: qxz!'.repeat(20));
    const other = await run(['train', '--text', join(dir, 'other.txt'), '--out', join(dir, 'x.safetensors'), '--resume', join(dir, 'text.ck'), '--steps', '9']);
    expect(other.stderr).toMatch(/its vocabulary is not --text .*other\.txt's/);
    const hidden = await run(['train', '--text', corpusPath, '--out', join(dir, 'x.safetensors'), '--resume', join(dir, 'text.ck'), '--hidden', '9']);
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toMatch(/--hidden: not with --resume/);
  });

  it('--patience counts on across --resume: the resumed run stops early at the step the uninterrupted one did, with its best model in --out', async () => {
    // lr 0.05 on a small model: the held-out loss is best at step 7 and stalls, so patience 2 stops at 9.
    const stalling = [
      ...small.filter((_, i, a) => a[i] !== '--validation' && a[i - 1] !== '--validation'),
      '--validation',
      '0.2',
      '--validate-every',
      '1',
      '--patience',
      '2',
      '--lr',
      '0.05',
    ];
    const straight = await run(['train', '--text', corpusPath, '--out', join(dir, 'p-straight.safetensors'), '--steps', '60', ...stalling]);
    expect(straight.code, straight.stderr).toBe(0);
    const stoppedAt = Number(/^(\d+) steps \(stopped early\)/.exec(straight.stdout)?.[1]);
    expect(stoppedAt).toBeGreaterThan(3);
    // Stopped one step before the early stop, with a validation behind it that did not improve.
    const out = join(dir, 'p-resumed.safetensors');
    const first = await run(['train', '--text', corpusPath, '--out', out, '--steps', String(stoppedAt - 1), '--checkpoint', join(dir, 'p.ck'), ...stalling]);
    expect(first.code, first.stderr).toBe(0);
    const rest = await run(['train', '--text', corpusPath, '--out', out, '--resume', join(dir, 'p.ck'), '--steps', '60', '--backend', 'cpu']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(new RegExp(`^${stoppedAt} steps \\(stopped early\\)`));
    expect(await weights(out)).toEqual(await weights(join(dir, 'p-straight.safetensors')));
  });

  it('Ctrl-C (SIGINT) stops at the next step, writes the checkpoint, exits 130; --resume goes on from there', async () => {
    const bin = fileURLToPath(new URL('../../bin/webgpu-rnn.js', import.meta.url));
    const ck = join(dir, 'interrupted.ck');
    const out = join(dir, 'interrupted.safetensors');
    const child = spawn(
      process.execPath,
      [bin, 'train', '--text', corpusPath, '--out', out, '--steps', '100000', '--checkpoint', ck, '--checkpoint-every', '2', ...small],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Running: its first periodic checkpoint is on disk.
    for (let i = 0; i < 300; i++) {
      if (
        await readFile(ck).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await ended, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted at step (\d+) of 100000: wrote .*interrupted\.ck \(go on with --resume .*\)/);
    const at = Number(/interrupted at step (\d+)/.exec(stderr)![1]);
    const file = readSafetensors(new Uint8Array(await readFile(ck)));
    expect(Number(file.metadata.steps)).toBe(at);
    const more = await run(['train', '--text', corpusPath, '--out', out, '--resume', ck, '--steps', String(at + 2), '--backend', 'cpu']);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(new RegExp(`^${at + 2} steps`));
  }, 60_000);
});

describe("the command's launcher (bin/webgpu-rnn.js)", () => {
  it('passes a signal on to the command it runs, and ends the way the command did, leaving no process behind', async () => {
    const bin = fileURLToPath(new URL('../../bin/webgpu-rnn.js', import.meta.url));
    const out = join(dir, 'signalled.safetensors');
    const parent = spawn(
      process.execPath,
      [bin, 'train', '--text', corpusPath, '--out', out, '--steps', '100000', '--hidden', '8', '--layers', '1', '--backend', 'cpu'],
      { stdio: 'ignore' },
    );
    const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => parent.on('exit', (code, signal) => resolve([code, signal])));
    // Wait for the command (the launcher's child) to be running.
    // (ps exits 1 while the parent has no child yet: a loaded machine may take a while to spawn it.)
    const childOf = (pid: number) => {
      try {
        return Number(
          execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
            .trim()
            .split('\n')[0] || 0,
        );
      } catch {
        return 0;
      }
    };
    let child = 0;
    for (let i = 0; i < 100 && !child; i++) {
      await new Promise((r) => setTimeout(r, 100));
      child = childOf(parent.pid!);
    }
    expect(child).toBeGreaterThan(0);
    parent.kill('SIGTERM');
    expect(await ended).toEqual([null, 'SIGTERM']);
    const alive = () => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toBe(false);
  });
});
