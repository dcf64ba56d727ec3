/**
 * PyTorch as a training-benchmark peer (Node only), on the CPU (`pytorch-cpu`) or on a CUDA GPU
 * (`pytorch-cuda`, for a machine with one): scripts/bench_pytorch_train.py runs as a child process
 * holding the model, and takes one training step per request over a pipe, so its steps are timed in
 * the same rounds as the other systems'. A step there is zero_grad, forward, loss, backward, Adam's
 * step and loss.item() (on CUDA also the step's synchronisation), in float32 (TF32 off) with torch's
 * default thread count; the time here includes the pipe's round trip (tens of microseconds).
 * Unavailable — a row with the reason — where there is no Python with torch, or no CUDA device for
 * `pytorch-cuda` (WEBGPU_RNN_PYTHON names another interpreter than /usr/bin/python3).
 */
import type { TrainSystem, TrainWorkload } from '../train.js';

export const pytorchCpu: TrainSystem = pytorchPeer('cpu');
export const pytorchCuda: TrainSystem = pytorchPeer('cuda');

function pytorchPeer(torchDevice: 'cpu' | 'cuda'): TrainSystem {
  const name = `pytorch-${torchDevice}` as const;
  return {
    name,
    async prepare(w: TrainWorkload) {
      if (typeof process === 'undefined' || !process.versions?.node) throw new Error(`${name}: needs Node (it runs Python as a child process)`);
      const [{ spawn }, { createInterface }, { mkdtemp, rm, writeFile }, { tmpdir }, { join }, { writeSafetensors }, { repoRoot }] = await Promise.all([
        import('node:child_process'),
        import('node:readline'),
        import('node:fs/promises'),
        import('node:os'),
        import('node:path'),
        import('../../safetensors.js'),
        import('../chromium.js'),
      ]);
      const dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-pytorch-'));
      const file = join(dir, 'workload.safetensors');
      const batch = Object.fromEntries(
        Object.entries({ input: w.batch.input, tokens: w.batch.tokens, source: w.batch.source, target_in: w.batch.target_in, target: w.batch.target }).filter(
          ([, v]) => v !== undefined,
        ),
      );
      await writeFile(file, writeSafetensors({ ...w.params, ...batch } as never, { floatDtype: 'F32', metadata: { model: JSON.stringify(w.model) } }));
      const script = join(repoRoot(), 'scripts', 'bench_pytorch_train.py');
      const python = process.env.WEBGPU_RNN_PYTHON ?? '/usr/bin/python3';
      const child = spawn(python, [script, file], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WEBGPU_RNN_TORCH_DEVICE: torchDevice } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // A Python that exits at once (no torch) closes the pipe under a pending write: that is reported by
      // `exited` below, so the pipe's own EPIPE is not an error of its own.
      child.stdin.on('error', () => undefined);
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const exited = new Promise<never>((_, reject) => {
        child.on('error', (e) => reject(new Error(`${name}: cannot start ${python}: ${e.message}`)));
        child.on('exit', (code) => reject(new Error(`${name}: ${python} exited (${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`)));
      });
      exited.catch(() => undefined);
      const next = async (): Promise<string> => {
        const r = await Promise.race([lines.next(), exited]);
        if (r.done) throw new Error(`${name}: ${python} closed its output: ${stderr.trim().split('\n').at(-1) ?? ''}`);
        return r.value;
      };
      const dispose = async () => {
        child.stdin.end('quit\n');
        child.kill();
        await rm(dir, { recursive: true, force: true });
      };
      try {
        const ready = await next();
        const [, version, threads, deviceName] = ready.split(' ');
        if (!ready.startsWith('ready ')) throw new Error(`${name}: unexpected answer ${JSON.stringify(ready)}`);
        const where = torchDevice === 'cuda' ? `CUDA (${deviceName.replaceAll('_', ' ')}), TF32 off` : `CPU, ${threads} threads`;
        return {
          note: `PyTorch ${version} ${where}, float32, torch.optim.Adam; timed through a pipe to the Python process`,
          run: async () => {
            child.stdin.write('step\n');
            const answer = await next();
            const loss = Number(answer);
            if (!Number.isFinite(loss)) throw new Error(`${name}: unexpected answer ${JSON.stringify(answer)}`);
            return loss;
          },
          dispose,
        };
      } catch (e) {
        await dispose();
        throw e;
      }
    },
  };
}
