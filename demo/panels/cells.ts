/**
 * LSTM vs GRU vs RNN, side by side: the same next-character task (the everyday sentences) trained with
 * each cell at once — the same embedding size I, hidden size H, initialisation seed, batches, optimizer
 * and steps, interleaved step by step (demo/lessons.ts) — with the loss curves overlaid, each cell's
 * recurrent parameter count from the config (PyTorch's count), the median time per step, and a caption
 * naming which learned faster on this run, with the numbers (demo/training-captions.ts). The chart,
 * Train / Stop and the published state are demo/lockstep-panel.ts's, shared with the optimizers panel.
 */
import type { RnnMode } from '../../src/index.js';
import { language, say, t } from '../i18n.js';
import { charModel, charTask, finalLoss, recurrentParameters } from '../lessons.js';
import { setupLockstepPanel } from '../lockstep-panel.js';
import type { PageContext } from '../main.js';
import { type CellName, cellsCaption } from '../training-captions.js';
import { numberInput } from '../ui.js';

const CELLS: Array<{ cell: CellName; mode: RnnMode }> = [
  { cell: 'RNN', mode: 'RNN_TANH' },
  { cell: 'GRU', mode: 'GRU' },
  { cell: 'LSTM', mode: 'LSTM' },
];
const [T, B] = [16, 8];
const LR = 0.01;
/** The caption compares the mean loss of this many last steps. */
const TAIL = 5;

export interface CellsState {
  steps: number;
  training: boolean;
  embedding?: number;
  hidden?: number;
  runs?: Array<{ cell: CellName; mode: RnnMode; parameters: number; losses: number[]; msPerStep: number; finalLoss: number; divergedAt?: number }>;
  caption?: string;
}

export function setupCells(page: PageContext): void {
  const state: CellsState = { steps: 0, training: false };
  window.__demo!.cells = state;
  let parameters: number[] = [];
  setupLockstepPanel<CellsState, NonNullable<CellsState['runs']>[number]>({
    prefix: 'cl',
    backend: page.backend,
    state,
    axis: 'cells.axisLoss',
    series: () => CELLS.map((c) => ({ label: c.cell === 'RNN' ? t('cells.seriesRnn') : c.cell })),
    idle: 'cells.caption',
    progress: 'cells.progress',
    start: () => {
      const I = numberInput('cl-embedding');
      const H = numberInput('cl-hidden');
      const task = charTask(T, B);
      parameters = CELLS.map((c) => recurrentParameters(c.mode, I, H));
      return {
        runs: CELLS.map((c) => ({
          id: c.cell,
          options: { model: charModel(task, c.mode, I, H), optimizer: { name: 'adam' as const, lr: LR }, init: { seed: 1 }, seed: 1 },
        })),
        batches: task.batches,
        steps: numberInput('cl-steps'),
        row: (c, i) => ({
          cell: CELLS[i].cell,
          mode: CELLS[i].mode,
          parameters: parameters[i],
          losses: c.losses,
          msPerStep: c.msPerStep,
          finalLoss: c.diverged ? Number.NaN : finalLoss(c, TAIL),
          divergedAt: c.diverged?.step,
        }),
        extra: { embedding: I, hidden: H },
      };
    },
    finish: (done, rows, stats, caption) => {
      const results = rows.map((r) => ({ cell: r.cell, loss: r.finalLoss, parameters: r.parameters, msPerStep: r.msPerStep, divergedAt: r.divergedAt }));
      say(stats, () =>
        rows
          .map((r) =>
            t('cells.statsItem', { cell: r.cell, p: r.parameters.toLocaleString(language() === 'zh' ? 'zh-CN' : 'en-US'), ms: r.msPerStep.toFixed(1) }),
          )
          .join(t('cells.statsSep')),
      );
      if (done > 0) {
        state.caption = cellsCaption(done, results, language());
        say(caption, () => {
          state.caption = cellsCaption(done, results, language());
          return state.caption;
        });
      }
    },
  });
}
