/**
 * Train and Stop for the training lessons' panels (cells, clipping, optimizers): Train runs `work`
 * with an AbortSignal, disabled while it runs (its error shown beside the controls, one line); Stop is
 * enabled from the press on and aborts the run after the round of steps in flight.
 */
import { busy, byId } from './ui.js';

export function wireTrainStop(trainId: string, stopId: string, errorId: string, work: (signal: AbortSignal) => Promise<void>): void {
  const train = byId<HTMLButtonElement>(trainId);
  const stop = byId<HTMLButtonElement>(stopId);
  stop.disabled = true;
  let controller: AbortController | undefined;
  train.addEventListener('click', () => {
    const c = new AbortController();
    controller = c;
    stop.disabled = false;
    void busy(train, errorId, () => work(c.signal)).finally(() => {
      if (controller === c) stop.disabled = true;
    });
  });
  stop.addEventListener('click', () => {
    controller?.abort();
    stop.disabled = true;
  });
}
