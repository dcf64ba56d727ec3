/**
 * One way for every panel to get a trainer, whatever the backend: `openTrainer(options)` takes
 * createTrainer's options and gives back a `PanelTrainer` — the library's Trainer itself on WebGPU
 * (its work is on the GPU; the page's thread only records it), and on the CPU backend a stand-in with
 * the same methods whose float64 arithmetic runs in a Web Worker (demo/trainer-worker.ts), so the
 * page keeps answering clicks, charts update live and Stop works while it trains. Panels call it
 * exactly as they would createTrainer and never branch on the backend.
 *
 * On the worker: arguments and results are copied (typed arrays included); fit's onProgress and
 * onCheckpoint run in the page, and fit waits for each as it does in-thread, so a callback may await
 * the trainer's own predict or evaluate; fit's `signal` aborts it at the next step; `steps` and
 * `learningRate` follow each answer and each progress report. Errors keep their message, name and
 * code (an RnnError's `code`, a NonFiniteStepError's `step` and `loss`).
 */
import {
  type CreateTrainerOptions,
  type FitOptions,
  type FitReport,
  type ModelConfig,
  type ModelConfigInput,
  RnnError,
  type Seq2SeqConfig,
  type Seq2SeqConfigInput,
  type Trainer,
  type TrainBatch,
  createTrainer,
} from '../src/index.js';
import type { TrainableConfig } from '../src/train/config.js';
import { type HostMessage, type HostRequest, REMOTE_METHODS, type RemoteMethod, type WireError, type WorkerMessage } from './trainer-protocol.js';

/** What the panels use of a trainer: the same on either backend. */
export type PanelTrainer<M extends TrainableConfig = ModelConfig> = Pick<
  Trainer<M>,
  'model' | 'backend' | 'optimizer' | 'steps' | 'learningRate' | 'fit' | RemoteMethod | 'destroy'
> & {
  /** Whether the arithmetic runs in a Web Worker (the CPU backend), for the page's test and notices. */
  readonly inWorker: boolean;
};

/** Whether a worker can be started here (not in a page without Worker, nor under Node's tests). */
const workersAvailable = () => typeof Worker !== 'undefined' && typeof window !== 'undefined';

export async function openTrainer(options: CreateTrainerOptions & { model: ModelConfigInput | ModelConfig }): Promise<PanelTrainer<ModelConfig>>;
export async function openTrainer(options: CreateTrainerOptions & { model: Seq2SeqConfigInput | Seq2SeqConfig }): Promise<PanelTrainer<Seq2SeqConfig>>;
export async function openTrainer(options: CreateTrainerOptions): Promise<PanelTrainer<TrainableConfig>>;
export async function openTrainer(options: CreateTrainerOptions): Promise<PanelTrainer<TrainableConfig>> {
  if (options.backend !== 'cpu' || !workersAvailable()) {
    const trainer = await createTrainer(options);
    return Object.assign(trainer, { inWorker: false });
  }
  const remote = new WorkerTrainer();
  try {
    await remote.create(options);
  } catch (e) {
    remote.terminate();
    throw e;
  }
  return remote as unknown as PanelTrainer<TrainableConfig>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: FitOptions['onProgress'];
  onCheckpoint?: FitOptions['onCheckpoint'];
}

/** The worker's trainer, seen from the page. */
class WorkerTrainer {
  readonly backend = 'cpu' as const;
  readonly inWorker = true;
  model!: TrainableConfig;
  optimizer!: Trainer['optimizer'];
  steps = 0;
  learningRate = Number.NaN;
  private readonly worker = new Worker(new URL('./trainer-worker.ts', import.meta.url), { type: 'module' });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private gone?: Error;

  constructor() {
    this.worker.onmessage = (event) => void this.receive(event.data as WorkerMessage);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`the training worker stopped: ${event.message || 'it could not start'}`));
    };
    for (const method of REMOTE_METHODS)
      (this as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => this.request({ op: 'call', method, args });
  }

  async create(options: CreateTrainerOptions): Promise<void> {
    const { device: _device, ...rest } = options;
    await this.request({ op: 'create', options: rest });
  }

  fit(batches: readonly TrainBatch[], options: FitOptions = {}): Promise<FitReport> {
    const { onProgress, onCheckpoint, signal, ...plain } = options;
    const id = this.nextId;
    const abort = () => this.post({ op: 'abort', id });
    signal?.addEventListener('abort', abort, { once: true });
    const done = this.request(
      { op: 'fit', batches, options: plain, checkpoints: onCheckpoint !== undefined },
      { onProgress, onCheckpoint },
    ) as Promise<FitReport>;
    if (signal?.aborted) abort();
    return done.finally(() => signal?.removeEventListener('abort', abort));
  }

  async destroy(): Promise<void> {
    if (this.gone) return;
    try {
      await this.request({ op: 'destroy' });
    } finally {
      this.terminate();
    }
  }

  /** Ends the worker at once (a fit in it stops where it is); every waiting call rejects. */
  terminate(): void {
    this.worker.terminate();
    this.fail(new Error('the trainer was destroyed'));
  }

  private fail(error: Error): void {
    this.gone ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private post(m: HostMessage): void {
    this.worker.postMessage(m);
  }

  private request(m: DistributiveOmit<HostRequest, 'id'>, callbacks?: Omit<Pending, 'resolve' | 'reject'>): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...callbacks });
      this.post({ ...m, id } as HostMessage);
    });
  }

  private async receive(m: WorkerMessage): Promise<void> {
    const p = this.pending.get(m.id);
    if ('ok' in m) {
      this.pending.delete(m.id);
      if (!m.ok) return p?.reject(rebuild(m.error));
      Object.assign(this, { steps: m.steps, learningRate: m.learningRate }, m.created ?? {});
      return p?.resolve(m.value);
    }
    Object.assign(this, { steps: m.steps, learningRate: m.learningRate });
    let value: unknown;
    try {
      if ('progress' in m) value = await p?.onProgress?.(m.progress);
      else await p?.onCheckpoint?.(m.checkpoint, m.info);
    } catch (e) {
      // A callback that throws ends the fit with its error, as it would in-thread.
      this.post({ op: 'abort', id: m.id });
      p?.reject(e as Error);
      this.pending.delete(m.id);
    }
    this.post({ op: 'ack', ack: m.ack, value });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The worker's error as the page's: an RnnError with its code (and any numbers it carried), or an Error. */
function rebuild(e: WireError): Error {
  const error = e.name === 'RnnError' && e.code ? new RnnError(e.code as ConstructorParameters<typeof RnnError>[0], e.message) : new Error(e.message);
  for (const [k, v] of Object.entries(e)) if (k !== 'name' && k !== 'message' && k !== 'code') (error as unknown as Record<string, unknown>)[k] = v;
  if (e.name !== 'RnnError' && e.name !== 'Error') Object.defineProperty(error, 'name', { value: e.name });
  return error;
}
