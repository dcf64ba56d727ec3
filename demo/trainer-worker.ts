/**
 * A Web Worker that owns one trainer on the float64 CPU backend, so that its arithmetic never holds up
 * the page (demo/trainer-host.ts starts it and speaks demo/trainer-protocol.ts to it). Requests run in
 * the order they arrive, except that a predict or evaluate sent by a fit's progress callback runs
 * while that fit waits for the callback, as it would in the page's own thread.
 */
import { type Trainer, createTrainer } from '../src/index.js';
import type { TrainableConfig } from '../src/train/config.js';
import type { HostMessage, HostRequest, WorkerMessage } from './trainer-protocol.js';

const scope = self as unknown as { postMessage(m: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null };
let trainer: Trainer<TrainableConfig> | undefined;
/** The running fits' abort controllers, by request id. */
const fits = new Map<number, AbortController>();
/** The page's acknowledgements awaited, by ack id. */
const acks = new Map<number, (value: unknown) => void>();
let nextAck = 1;

const fields = () => ({ steps: trainer?.steps ?? 0, learningRate: trainer?.learningRate ?? Number.NaN });

/** Posts `message` and resolves with the page's acknowledgement of it. */
function ask(message: (ack: number) => WorkerMessage): Promise<unknown> {
  const ack = nextAck++;
  return new Promise((resolve) => {
    acks.set(ack, resolve);
    scope.postMessage(message(ack));
  });
}

async function handle(m: HostRequest): Promise<unknown> {
  if (m.op === 'create') {
    trainer = await createTrainer({ ...m.options, backend: 'cpu' });
    return undefined;
  }
  if (!trainer) throw new Error('trainer worker: no trainer (create one first)');
  if (m.op === 'destroy') {
    await trainer.destroy();
    trainer = undefined;
    return undefined;
  }
  if (m.op === 'call') return (trainer[m.method] as (...args: unknown[]) => Promise<unknown>).apply(trainer, m.args);
  const stop = new AbortController();
  fits.set(m.id, stop);
  const t = trainer;
  try {
    return await t.fit(m.batches, {
      ...m.options,
      signal: stop.signal,
      onProgress: (progress) => ask((ack) => ({ id: m.id, ack, progress, ...fields() })) as Promise<boolean | undefined>,
      onCheckpoint: m.checkpoints ? async (checkpoint, info) => void (await ask((ack) => ({ id: m.id, ack, checkpoint, info, ...fields() }))) : undefined,
    });
  } finally {
    fits.delete(m.id);
  }
}

scope.onmessage = (event) => {
  const m = event.data as HostMessage;
  if (m.op === 'abort') return fits.get(m.id)?.abort();
  if (m.op === 'ack') {
    acks.get(m.ack)?.(m.value);
    acks.delete(m.ack);
    return;
  }
  handle(m).then(
    (value) =>
      scope.postMessage({
        id: m.id,
        ok: true,
        value,
        ...fields(),
        ...(m.op === 'create' ? { created: { model: trainer!.model, optimizer: trainer!.optimizer } } : {}),
      }),
    (e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      const extra = Object.fromEntries(Object.entries(error).filter(([, v]) => typeof v === 'number' || typeof v === 'string'));
      scope.postMessage({ id: m.id, ok: false, error: { ...extra, name: error.name, message: error.message } });
    },
  );
};
