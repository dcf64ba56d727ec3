/**
 * The messages between demo/trainer-host.ts (the page) and demo/trainer-worker.ts (a Web Worker that
 * owns one CPU-backend trainer). Every request carries an id; the worker answers it once, with the
 * value or the error, and with the trainer's step count and learning rate after it. A running fit
 * also sends progress and checkpoints, each waiting for the page's acknowledgement: the page's
 * callbacks run as they would in-thread, and the worker's event loop turns at least every readEvery
 * steps, so an abort sent by Stop is seen at the next step.
 */
import type { CreateTrainerOptions, FitOptions, TrainBatch } from '../src/index.js';
import type { FitCheckpoint, FitProgress } from '../src/train/fit.js';

/** The trainer methods a worker runs by name: their arguments and results are plain data. */
export const REMOTE_METHODS = [
  'trainStep',
  'evaluate',
  'predict',
  'gradients',
  'gradientFlow',
  'parameters',
  'stateDict',
  'checkpoint',
  'sample',
  'decode',
] as const;
export type RemoteMethod = (typeof REMOTE_METHODS)[number];

/** fit's options without the callbacks and the signal, which travel as messages. */
export type PlainFitOptions = Omit<FitOptions, 'onProgress' | 'onCheckpoint' | 'signal'>;

export type HostMessage =
  | { id: number; op: 'create'; options: CreateTrainerOptions }
  | { id: number; op: 'call'; method: RemoteMethod; args: unknown[] }
  | { id: number; op: 'fit'; batches: readonly TrainBatch[]; options: PlainFitOptions; checkpoints: boolean }
  /** Stop the fit of request `id` at its next step. */
  | { op: 'abort'; id: number }
  /** The page's callback for `ack` is done; `value` is what it returned (false stops the fit). */
  | { op: 'ack'; ack: number; value?: unknown }
  | { id: number; op: 'destroy' };

/** The requests the worker answers once each (abort and ack are answered by no message of their own). */
export type HostRequest = Exclude<HostMessage, { op: 'abort' | 'ack' }>;

/**
 * An error as it crosses: its name, message and an RnnError's code, with any other string or number
 * field it carried (a NonFiniteStepError's step and loss).
 */
export type WireError = { name: string; message: string; code?: string } & Record<string, unknown>;

/** The trainer's readable fields, sent with every answer and fit message. */
export interface TrainerFields {
  steps: number;
  learningRate: number;
}

export type WorkerMessage =
  | ({ id: number; ok: true; value: unknown } & TrainerFields & { created?: { model: unknown; optimizer: unknown } })
  | { id: number; ok: false; error: WireError }
  | ({ id: number; ack: number; progress: FitProgress } & TrainerFields)
  | ({ id: number; ack: number; checkpoint: Uint8Array; info: FitCheckpoint } & TrainerFields);
