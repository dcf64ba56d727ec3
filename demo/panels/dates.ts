/**
 * Attention, by experiment: an encoder–decoder with attention learns to rewrite dates written twenty
 * ways (English, numeric, 年月日 with Arabic or Chinese numerals) as YYYY-MM-DD, trained in the page
 * (Train / Stop / Resume) on dateTask's pairs. Live: the training loss and the exact-match accuracy on
 * held-out dates (none of which it trains on, in any format), decoded greedily; type a date and see
 * its translation and the attention — which source characters each output character looked at.
 *
 * URL parameters, for the page's test and slow machines: `dsteps=N` stops each Train after N steps.
 */
import { type DateTask, type Seq2SeqConfigInput, dateTask } from '../../src/index.js';
import type { Seq2SeqConfig } from '../../src/index.js';
import { lineChart, placeholder, setLines } from '../charts.js';
import { drawHeatmap } from '../heatmap.js';
import { chartLabels } from '../chart-labels.js';
import { PageError, onLanguageChange, pageError, say, t } from '../i18n.js';
import type { PageContext } from '../main.js';
import { type PanelTrainer, openTrainer } from '../trainer-host.js';
import { busy, byId, numberInput, showError } from '../ui.js';

const BATCH = 64;
const HELD_OUT = 500;
const EVAL_EVERY = 100;
const [BOS, EOS] = [1, 2];

interface Session {
  trainer: PanelTrainer<Seq2SeqConfig>;
  /** The controls it was made with (settingsKey). */
  key: string;
  task: DateTask;
  batches: ReturnType<DateTask['batches']>;
  test: ReturnType<DateTask['batches']>;
  steps: number[];
  losses: Array<number | null>;
  accuracy: Array<number | null>;
}

function modelFor(task: DateTask, hidden: number): Seq2SeqConfigInput {
  return {
    source_embedding: { num_embeddings: task.sourceVocabulary.length, embedding_dim: 32 },
    target_embedding: { num_embeddings: task.targetVocabulary.length, embedding_dim: 32 },
    encoder: { mode: 'LSTM', input_size: 32, hidden_size: hidden },
    decoder: { mode: 'LSTM', input_size: 32, hidden_size: hidden },
    bridge: 'copy',
    attention: { score: 'dot', placement: 'after', combine_size: hidden },
  };
}

export function setupDates(page: PageContext): void {
  const state: NonNullable<NonNullable<typeof window.__demo>['dates']> = (window.__demo!.dates = { steps: 0, training: false });
  const maxSteps = Number(new URLSearchParams(location.search).get('dsteps')) || undefined;
  const chart = lineChart(byId('dt-chart'), { label: 'step' }, { label: 'loss · accuracy' }, [
    { label: 'training loss (nats per character)' },
    { label: 'held-out exact match (0 … 1)', points: true },
  ]);
  chartLabels(chart, () => ({ x: t('chart.step'), y: t('dt.axisY'), series: [t('dt.seriesLoss'), t('dt.seriesAccuracy')] }));
  placeholder(chart, () => t('ux.pressTrain'));
  const trainButton = byId<HTMLButtonElement>('dt-train');
  const stopButton = byId<HTMLButtonElement>('dt-stop');
  const stats = byId('dt-stats');
  let session: Session | undefined;
  let stopped = false;

  const newSession = async (): Promise<Session> => {
    await session?.trainer.destroy();
    const task = dateTask({ seed: 1, trainDates: 20_000, testDates: HELD_OUT });
    const trainer = await openTrainer({
      model: modelFor(task, numberInput('dt-hidden')),
      backend: page.backend,
      init: { seed: 1 },
      optimizer: { name: 'adam', lr: numberInput('dt-lr'), clip_grad_norm: 5 },
    });
    session = {
      trainer,
      key: settingsKey(),
      task,
      batches: task.batches(task.train, BATCH),
      test: task.batches(task.test, HELD_OUT),
      steps: [],
      losses: [],
      accuracy: [],
    };
    setLines(chart, [], [[], []]);
    settingsNote();
    say(trainButton, () => t('common.train'));
    return session;
  };

  /** Exact match of the greedy decoding on the held-out dates. */
  const accuracyOf = async (s: Session): Promise<number> => {
    let right = 0;
    for (const b of s.test) {
      const d = await s.trainer.decode(b.source!, { bos: BOS, eos: EOS, maxLength: 10, sourceLengths: b.source_lengths });
      const B = d.lengths.length;
      for (let r = 0; r < B; r++) {
        let ok = true;
        for (let t = 0; t < 10; t++) if (d.tokens.data[r * 10 + t] !== b.target.data[t * B + r]) ok = false;
        if (ok) right++;
      }
    }
    return right / s.task.test.length;
  };

  const train = async () => {
    // Stop works from the press on: while the model is made and its first step's pipelines compile too.
    stopped = false;
    stopButton.disabled = false;
    state.training = true;
    lockModel(true);
    try {
      const s = session ?? (await newSession());
      const started = performance.now();
      const first = s.trainer.steps;
      while (!stopped && (maxSteps === undefined || s.trainer.steps - first < maxSteps)) {
        const step = s.trainer.steps;
        const batch = s.batches[step % s.batches.length];
        const last = maxSteps !== undefined && step + 1 - first >= maxSteps;
        const read = step % 10 === 0 || last;
        const r = await s.trainer.trainStep(batch, { readLoss: read });
        if (!read) continue;
        const evaluate = (step + 1) % EVAL_EVERY === 0 || last;
        const accuracy = evaluate ? await accuracyOf(s) : undefined;
        s.steps.push(step + 1);
        s.losses.push(r.loss!);
        s.accuracy.push(accuracy ?? null);
        setLines(chart, s.steps, [s.losses, s.accuracy]);
        Object.assign(state, { steps: step + 1, loss: r.loss, ...(accuracy === undefined ? {} : { accuracy }) });
        const epoch = ((step + 1) / s.batches.length).toFixed(2);
        const known = s.accuracy.filter((a): a is number => a !== null).at(-1);
        const values = {
          step: step + 1,
          epoch,
          loss: r.loss!.toFixed(3),
          seconds: ((performance.now() - started) / 1000).toFixed(0),
        };
        say(stats, () => t('dt.progress', { ...values, accuracy: known === undefined ? '' : t('dt.progressAccuracy', { percent: (100 * known).toFixed(1) }) }));
      }
      await translate();
    } finally {
      state.training = false;
      stopButton.disabled = true;
      say(trainButton, () => t('common.resume'));
      lockModel(false);
    }
  };

  const MODEL_CONTROLS = ['dt-hidden', 'dt-lr'];
  const settingsKey = () => MODEL_CONTROLS.map((id) => byId<HTMLInputElement>(id).value).join('|');
  /**
   * Says what Train will do: while it trains, that the model's settings are locked; after, when they
   * no longer describe the model, that Resume goes on with it as it is and New model applies them.
   */
  const settingsNote = () => {
    const note = byId('dt-settings-note');
    const changed = !state.training && session !== undefined && session.key !== settingsKey();
    note.hidden = !state.training && !changed;
    note.textContent = state.training
      ? t('ux.locked')
      : changed
        ? t('ux.datesSettings', { model: `LSTM ${session!.trainer.model.encoder.hidden_size}, lr ${session!.trainer.optimizer.lr}` })
        : '';
  };
  const lockModel = (locked: boolean) => {
    for (const id of [...MODEL_CONTROLS, 'dt-reset']) byId<HTMLInputElement>(id).disabled = locked;
    settingsNote();
  };
  for (const id of MODEL_CONTROLS) byId(id).addEventListener('input', settingsNote);
  onLanguageChange(() => settingsNote());

  const translate = async () => {
    showError('dt-error');
    if (!session) return;
    const text = byId<HTMLInputElement>('dt-input').value.trim();
    if (!text) throw pageError('dt.typeDate');
    let ids: Int32Array;
    try {
      ids = session.task.encodeSource(text);
    } catch {
      const unknown = [...new Set(Array.from(text))].filter((c) => !session!.task.sourceVocabulary.includes(c));
      throw new PageError(() => t('dt.unknownChars', { chars: unknown.map((c) => t('common.quoted', { text: c })).join(t('common.listSep')) }));
    }
    if (ids.length > session.task.maxSourceLength) throw pageError('dt.tooLong', { max: session.task.maxSourceLength });
    const d = await session.trainer.decode({ shape: [ids.length, 1], data: ids }, { bos: BOS, eos: EOS, maxLength: 10 });
    const out = session.task.decodeTarget(d.tokens.data);
    const S = ids.length;
    const rows = Array.from({ length: d.lengths[0] }, (_, t) => Array.from(d.attention.data.slice(t * S, (t + 1) * S)));
    byId('dt-output').textContent = out;
    drawHeatmap(byId<HTMLCanvasElement>('dt-heatmap'), Array.from(out), Array.from(text), rows);
    Object.assign(state, { translation: { input: text, output: out, attention: rows } });
  };

  trainButton.addEventListener('click', () => void busy(trainButton, 'dt-error', train));
  stopButton.addEventListener('click', () => (stopped = true));
  byId('dt-reset').addEventListener('click', () => void busy(trainButton, 'dt-error', async () => void (await newSession())));
  const translateButton = byId<HTMLButtonElement>('dt-translate');
  translateButton.addEventListener(
    'click',
    () =>
      void busy(translateButton, 'dt-error', async () => {
        if (!session) throw pageError('dt.trainFirst');
        await translate();
      }),
  );
  byId('dt-input').addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') translateButton.click();
  });
}
