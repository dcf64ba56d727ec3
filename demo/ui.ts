/** Small page helpers shared by the panels: elements by id, errors beside their control, downloads. */
import type { Backend } from '../src/index.js';
import { PageError, errorText, say, t } from './i18n.js';

/** What the panels publish for the page's automated test (test/demo.test.ts). */
export interface DemoState {
  backend: Backend;
  /** The adapter's name, as the backend notice shows it (a name: the same in every language). */
  adapter?: string;
  nextChar?: {
    steps: number;
    loss?: number;
    validationLoss?: number;
    unigram: number;
    /** The shown next-character distribution: the prompt, characters and their probabilities (all of them sum to 1). */
    probabilities?: { prompt: string; chars: string[]; p: number[]; total: number };
    /** Whether the controls no longer describe the trained model (Train would start a new one). */
    settingsChanged?: boolean;
    /** Whether the model trains in a Web Worker (the CPU backend: demo/trainer-host.ts). */
    inWorker?: boolean;
    sample?: string;
    training: boolean;
    /** The steps of the loss chart's points. */
    chartSteps?: number[];
    /** Whether the page's storage (IndexedDB) is there to keep checkpoints; the step of the one kept. */
    storage?: boolean;
    keptStep?: number;
    /** Every step whose checkpoint the page's storage took, in order. */
    keptSteps?: number[];
    /** The offer to continue the last visit's model, while it is shown. */
    offer?: string;
  };
  gradientFlow?: Record<string, number[]>;
  forecast?: { trainLoss: number; heldOutError: number; naiveError: number };
  dates?: {
    steps: number;
    loss?: number;
    /** Exact match of the held-out dates, 0 … 1. */
    accuracy?: number;
    translation?: { input: string; output: string; attention: number[][] };
    training: boolean;
  };
  speed?: Array<{ shape: string; system: string; ms: number | null }>;
  /** The training lessons (engineer B): cells side by side, exploding gradients and clipping, optimizers. */
  cells?: import('./panels/cells.js').CellsState;
  clipping?: import('./panels/clipping.js').ClippingState;
  optimizers?: import('./panels/optimizers.js').OptimizersState;
  /** The gates panel (engineer C): each shown gate's values [t][unit] over the sentence's characters, and its check. */
  gates?: {
    source: 'trained' | 'fresh';
    mode: string;
    layer: number;
    units: number;
    hidden: number;
    chars: string[];
    values: Record<string, number[][]>;
    /** The largest |hₜ − the library's hₜ| of the last layer, every step and unit. */
    hError: number;
    steps: number;
  };
  /** The overfitting panel: each run's best and last held-out loss, the kept model's gap, and the curves. */
  overfitting?: {
    plain: import('./lesson-captions.js').OverfitRun;
    dropout: import('./lesson-captions.js').OverfitRun;
    patience: number;
    gapStep: number;
    rate: number;
    recurrentRate: number;
    curves: Array<{ steps: number[]; train: number[]; heldOut: number[] }>;
    vocabulary: number;
    trainChars: number;
    heldOutChars: number;
  };
  /** The bidirectional panel: held-out accuracy at the mask, one direction and two. */
  bidirectional?: {
    rows: number;
    finalStep: number;
    uni: { accuracy: number; params: number };
    bi: { accuracy: number; params: number };
    baseline: number;
    steps: number[];
    accuracy: Array<Array<number | null>>;
  };
}

declare global {
  interface Window {
    __demo?: DemoState;
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`demo: no element #${id}`);
  return e as T;
}

/** Shows `error` in the element `id` (beside the control that caused it), or clears it. */
export function showError(id: string, error?: unknown): void {
  const box = byId(id);
  if (error === undefined) {
    box.hidden = true;
    say(box);
    return;
  }
  box.hidden = false;
  say(box, () => errorText(error));
  console.warn(`${id}:`, error);
}

/** Runs `work` with `button` disabled; its error goes to `errorId`. */
export async function busy(button: HTMLButtonElement, errorId: string, work: () => Promise<void>): Promise<void> {
  button.disabled = true;
  showError(errorId);
  try {
    await work();
  } catch (e) {
    showError(errorId, e);
  } finally {
    button.disabled = false;
  }
}

export function download(name: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A number input's value, clamped to its min and max; `name` for the error otherwise. */
export function numberInput(id: string): number {
  const input = byId<HTMLInputElement>(id);
  const v = Number(input.value);
  // The label's words in the language of the moment (the error is rendered again when it changes).
  const label = () => input.closest('label')?.textContent?.trim() ?? id;
  const value = input.value;
  if (!Number.isFinite(v)) throw new PageError(() => t('common.notNumber', { label: label(), value }));
  const min = input.min === '' ? -Infinity : Number(input.min);
  const max = input.max === '' ? Infinity : Number(input.max);
  if (v < min || v > max) throw new PageError(() => t('common.outOfRange', { label: label(), min, max, value: v }));
  return v;
}
