/**
 * Demo: builds a model (random PyTorch-style weights, or the user's config.json + safetensors),
 * runs a random batch on WebGPU and on the float64 CPU reference, and shows time, agreement and the
 * first sequence's output.
 */
import { type Rnn, type RnnConfigInput, type Tensor, createRnn, parameterSpecs, resolveConfig } from '../src/index.js';
import { relativeError } from '../src/relative-error.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (text: string, bad = false) => {
  const line = document.createElement('div');
  line.textContent = text;
  if (bad) line.className = 'bad';
  $('log').append(line);
};

function randomTensor(shape: number[], scale: number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (Math.random() * 2 - 1) * scale;
  return { shape, data };
}

async function modelSource(): Promise<{ config: RnnConfigInput; weights: Record<string, Tensor> | Uint8Array }> {
  const configFile = $<HTMLInputElement>('configFile').files?.[0];
  const weightsFile = $<HTMLInputElement>('weightsFile').files?.[0];
  if (configFile && weightsFile) {
    return { config: JSON.parse(await configFile.text()), weights: new Uint8Array(await weightsFile.arrayBuffer()) };
  }
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  const config = resolveConfig({
    mode: $<HTMLSelectElement>('mode').value as RnnConfigInput['mode'],
    input_size: num('input_size'),
    hidden_size: num('hidden_size'),
    num_layers: num('num_layers'),
    bidirectional: $<HTMLInputElement>('bidirectional').checked,
  });
  const bound = 1 / Math.sqrt(config.hidden_size); // PyTorch's default init range
  const weights = Object.fromEntries(parameterSpecs(config).map((s) => [s.name, randomTensor([...s.shape], bound)]));
  return { config, weights };
}

/** Plots the first few features of sequence 0 over time, scaled to the largest magnitude shown. */
function plot(output: Tensor, B: number): void {
  const canvas = $<HTMLCanvasElement>('plot');
  const g = canvas.getContext('2d')!;
  g.clearRect(0, 0, canvas.width, canvas.height);
  const [T, , F] = output.shape;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  let peak = 1e-6;
  for (let t = 0; t < T; t++) for (let f = 0; f < Math.min(4, F); f++) peak = Math.max(peak, Math.abs(output.data[t * B * F + f]));
  for (let f = 0; f < Math.min(4, F); f++) {
    g.strokeStyle = colors[f];
    g.beginPath();
    for (let t = 0; t < T; t++) {
      const v = output.data[(t * B) * F + f];
      const x = (t / Math.max(1, T - 1)) * canvas.width;
      const y = canvas.height / 2 - (v / peak) * (canvas.height / 2.2);
      if (t === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
    g.stroke();
  }
}

async function run(): Promise<void> {
  $('log').textContent = '';
  const button = $<HTMLButtonElement>('run');
  button.disabled = true;
  let gpu: Rnn | undefined;
  try {
    const { config, weights } = await modelSource();
    const cfg = resolveConfig(config);
    const T = Number($<HTMLInputElement>('T').value);
    const B = Number($<HTMLInputElement>('B').value);
    const input = randomTensor(cfg.batch_first ? [B, T, cfg.input_size] : [T, B, cfg.input_size], 1);
    gpu = await createRnn({ config: cfg, weights });
    const cpu = await createRnn({ config: cfg, weights, backend: 'cpu' });
    await gpu.forward(input); // warm-up: pipelines and buffers are made on the first call
    let t0 = performance.now();
    const g = await gpu.forward(input);
    const gpuMs = performance.now() - t0;
    t0 = performance.now();
    const c = await cpu.forward(input);
    const cpuMs = performance.now() - t0;
    log(`${cfg.mode} ${cfg.num_layers} layer(s)${cfg.bidirectional ? ', bidirectional' : ''}, hidden ${cfg.hidden_size}; input [${input.shape}]`);
    log(`WebGPU: ${gpuMs.toFixed(1)} ms   CPU float64 reference: ${cpuMs.toFixed(1)} ms`);
    const err = relativeError(g.output.data, c.output.data);
    log(`agreement ‖gpu − cpu‖ / ‖cpu‖ = ${err.toExponential(2)} ${err <= 1e-4 ? '✓' : '✗'}`, err > 1e-4);
    if (!cfg.batch_first) plot(g.output, B);
  } catch (e) {
    log(String((e as Error).message ?? e), true);
  } finally {
    gpu?.destroy();
    button.disabled = false;
  }
}

async function describeAdapter(): Promise<void> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter();
  const info = adapter?.info;
  $('adapter').textContent = adapter
    ? `Adapter: ${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unnamed'}.`
    : 'No WebGPU adapter here: use a browser with WebGPU (the CPU reference still works in code).';
}

$('run').addEventListener('click', () => void run());
void describeAdapter();
