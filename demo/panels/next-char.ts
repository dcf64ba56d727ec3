/**
 * Next character: a character-level language model trained in the page with the library's own `fit`
 * (truncated backpropagation through time over the text, the state carried from batch to batch), on
 * the GPU or the CPU backend. Live: training and held-out loss against the unigram baseline, the
 * next-character distribution after the prompt (trainer.predict), sampled continuations (sampled on
 * the GPU), and the weights as a safetensors state_dict PyTorch loads (with the model and vocabulary
 * in its metadata, as `webgpu-rnn train --text` writes them), which this panel also loads back, or
 * as an ONNX file (exportModelOnnx, the vocabulary in its metadata) that ONNX Runtime runs.
 *
 * The whole run is kept in the page's storage as it trains (demo/storage.ts, IndexedDB): fit hands a
 * checkpoint (trainer.checkpoint, with the vocabulary and the corpus in its metadata) every
 * CHECKPOINT_EVERY steps, and one more is taken when a Train ends; each is stored with the loss curve
 * so far, without holding up training (the newest waiting one is written, older ones are dropped). The
 * next visit offers to continue it: createTrainer({ resume }), the controls and the chart restored, and
 * the next Train goes on with fit from the checkpoint's step. The same checkpoint downloads as a file
 * and loads back (on another machine, say); a file that is not such a checkpoint gets a one-line error
 * and changes nothing.
 *
 * URL parameters, for the page's test and slow machines: `steps=N` stops each Train after N steps.
 */
import {
  type ModelConfigInput,
  type TrainBatch,
  type Vocabulary,
  decode,
  encode,
  exportModelOnnx,
  type SafetensorsFile,
  readSafetensors,
  resolveModelConfig,
  textBatches,
  unigramLoss,
  vocabularyOf,
  writeSafetensors,
} from '../../src/index.js';
import { barChart, greyOut, lineChart, placeholder, setLines } from '../charts.js';
import { everydayCorpus } from '../corpora/everyday.js';
import { chartLabels } from '../chart-labels.js';
import { PageError, type StringKey, onLanguageChange, pageError, say, t } from '../i18n.js';
import type { PageContext } from '../main.js';
import { type KeptStore, openKept } from '../storage.js';
import { publishModel } from '../shared-model.js';
import { type PanelTrainer, openTrainer } from '../trainer-host.js';
import { busy, byId, download, numberInput, showError } from '../ui.js';

const SEQ_LEN = 32;
const BATCH = 16;
const SHOWN = 12;
/** fit hands a checkpoint to the page's storage this often (and one is taken when a Train ends). */
const CHECKPOINT_EVERY = 50;
/** The panel's key in the page's storage. */
const KEPT_KEY = 'next-char';
const CORPUS_NAMES: Record<string, StringKey> = { everyday: 'nc.corpusNameEveryday', tang300: 'nc.corpusNameTang', own: 'nc.corpusNameOwn' };
/** The prompt each corpus brings: one its model can answer (your own text: its first characters). */
const DEFAULT_PROMPTS: Record<string, string> = { everyday: '今天天气很', tang300: '床前明月' };
/** The controls that make the model: changing one while a model exists means a new model. */
const MODEL_CONTROLS = ['nc-corpus', 'nc-mode', 'nc-hidden', 'nc-layers', 'nc-lr'];

/** The loss curve: the steps that read a loss, each step's training and held-out loss (null: none). */
interface Curve {
  steps: number[];
  losses: Array<number | null>;
  validationLosses: Array<number | null>;
}

/** What the page's storage keeps: the checkpoint (vocabulary and corpus in its metadata) and the curve. */
interface KeptRun {
  checkpoint: Uint8Array;
  steps: number;
  corpus: string;
  curve: Curve;
  savedAt: number;
}

interface Session extends Curve {
  trainer: PanelTrainer;
  vocab: Vocabulary;
  key: string;
  /** The text it trains on: a corpus of the page's ('everyday', 'tang300') or the visitor's own ('own', with its text). */
  corpus: string;
  text: string;
  batches: TrainBatch[];
  validation: TrainBatch[];
  unigram: number;
}

/** Characters quoted and listed the way the page's language does ("a", "b" · “a”、“b”). */
const quoted = (chars: string[]) => chars.map((c) => t('common.quoted', { text: c })).join(t('common.listSep'));

async function corpusText(which = byId<HTMLSelectElement>('nc-corpus').value, own = byId<HTMLTextAreaElement>('nc-text').value): Promise<string> {
  if (which === 'everyday') return everydayCorpus();
  if (which === 'tang300') return (await import('../corpora/tang300.txt?raw')).default;
  if (Array.from(own).length < 2 * SEQ_LEN + 2) throw pageError('nc.ownTooShort', { min: 2 * SEQ_LEN + 2, n: Array.from(own).length });
  return own;
}

function modelFor(vocab: number): ModelConfigInput {
  const hidden = numberInput('nc-hidden');
  const layers = numberInput('nc-layers');
  const mode = byId<HTMLSelectElement>('nc-mode').value as 'LSTM';
  return {
    embedding: { num_embeddings: vocab, embedding_dim: 32 },
    rnn: { mode, input_size: 32, hidden_size: hidden, num_layers: layers },
    head: { out_features: vocab, on: 'output' },
    loss: 'cross_entropy',
  };
}

export function setupNextChar(page: PageContext): void {
  const state = (window.__demo!.nextChar = { steps: 0, unigram: Number.NaN, training: false } as NonNullable<typeof window.__demo>['nextChar'] & object);
  const maxSteps = Number(new URLSearchParams(location.search).get('steps')) || undefined;
  const lossChart = lineChart(byId('nc-loss-chart'), { label: t('ux.stepLog'), log: true }, { label: t('nc.axisNats') }, [
    { label: 'training' },
    { label: 'held-out', points: true },
    { label: 'unigram baseline', dash: [6, 4], color: '#868e96' },
  ]);
  const probs = barChart(byId('nc-probs-chart'), t('nc.axisProbability'), [t('nc.seriesNext')]);
  chartLabels(lossChart, () => ({
    x: t('ux.stepLog'),
    y: t('nc.axisNats'),
    series: [t('nc.seriesTraining'), t('nc.seriesHeldOut'), t('nc.seriesUnigram')],
  }));
  chartLabels(probs.plot, () => ({ y: t('nc.axisProbability'), series: [t('nc.seriesNext')] }));
  placeholder(lossChart, () => t('ux.pressTrain'));
  placeholder(probs.plot, () => t('ux.pressTrainBars'));
  const trainButton = byId<HTMLButtonElement>('nc-train');
  const stopButton = byId<HTMLButtonElement>('nc-stop');
  const stats = byId('nc-stats');
  /** The current model's line in the stats (its text's characters and baseline), in the language of the moment. */
  let modelLine = () => '';
  const textBox = byId<HTMLTextAreaElement>('nc-text');
  let session: Session | undefined;
  let stop: AbortController | undefined;

  const redrawLoss = () => {
    if (!session) return;
    setLines(lossChart, session.steps, [session.losses, session.validationLosses, session.steps.map(() => session!.unigram)]);
  };

  /** The distribution after the prompt, drawn as bars; the whole of it published for the test. */
  let asked = 0;
  /** No bars: the chart cleared (and greyed out with `why`), nothing published. */
  const clearProbabilities = (why?: () => string) => {
    asked++; // a distribution still being computed is not drawn
    probs.set([], [[]]);
    greyOut(probs.plot, why);
    delete state.probabilities;
  };
  const showProbabilities = async () => {
    if (!session) return;
    showError('nc-error');
    const prompt = byId<HTMLInputElement>('nc-prompt').value;
    const missing = [...new Set(Array.from(prompt))].filter((c) => !session!.vocab.ids.has(c));
    if (!prompt || missing.length) {
      // Not the previous prompt's distribution: the chart greys out, with the reason over it and beside the prompt.
      clearProbabilities(() => t(prompt ? 'ux.promptInvalid' : 'ux.promptEmpty'));
      showError('nc-error', prompt ? pageError('nc.promptUnreadable', { chars: quoted(missing) }) : pageError('nc.promptType'));
      return;
    }
    const ids = encode(session.vocab, prompt);
    const mine = ++asked;
    const s = session;
    const logits = await s.trainer.predict({ tokens: { shape: [ids.length, 1], data: ids } });
    // A newer prompt or model came meanwhile: this one is stale.
    if (mine !== asked || s !== session) return;
    greyOut(probs.plot);
    const V = session.vocab.chars.length;
    const last = logits.data.subarray((ids.length - 1) * V);
    const top = Math.max(...last);
    const e = Array.from(last, (v) => Math.exp(v - top));
    const z = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / z);
    const order = p
      .map((_, i) => i)
      .sort((a, b) => p[b] - p[a])
      .slice(0, SHOWN);
    const label = (c: string) => (c === '\n' ? '↵' : c === ' ' ? '␠' : c);
    probs.set(
      order.map((i) => label(session!.vocab.chars[i])),
      [order.map((i) => p[i])],
    );
    state.probabilities = { prompt, chars: order.map((i) => session!.vocab.chars[i]), p: order.map((i) => p[i]), total: p.reduce((a, b) => a + b, 0) };
  };

  /**
   * A new model for the chosen text and settings (the old one is destroyed), or one `loaded` (weights
   * or a resumed checkpoint, its text and curve given or the chosen ones).
   */
  const newSession = async (loaded?: { trainer: PanelTrainer; vocab: Vocabulary; text?: string; curve?: Curve }): Promise<Session> => {
    const text = loaded?.text ?? (await corpusText());
    const vocab = loaded?.vocab ?? vocabularyOf(text);
    // A loaded model keeps its own vocabulary: it trains on the chosen text only if that is covered.
    let ids: Int32Array = new Int32Array(0);
    try {
      ids = encode(vocab, text);
    } catch (e) {
      if (!loaded) throw e;
    }
    const split = Math.floor(ids.length * 0.9);
    const train = ids.subarray(0, split);
    const held = ids.subarray(split);
    const trainable = train.length > SEQ_LEN * BATCH && held.length > SEQ_LEN + 1;
    const validation = trainable ? textBatches(held, SEQ_LEN, Math.max(1, Math.min(4, Math.floor((held.length - 1) / SEQ_LEN)))).slice(0, 8) : [];
    publishModel(undefined); // the gates panel lets go of the model about to be destroyed
    await session?.trainer.destroy();
    const model = loaded ? undefined : modelFor(vocab.chars.length);
    const trainer =
      loaded?.trainer ??
      (await openTrainer({
        model: model!,
        backend: page.backend,
        init: model!.rnn.mode === 'LSTM' ? { forgetBias: 1, seed: 1 } : { seed: 1 },
        seed: 1,
        optimizer: { name: 'adam', lr: numberInput('nc-lr'), clip_grad_norm: 5 },
      }));
    const corpus = byId<HTMLSelectElement>('nc-corpus').value;
    session = {
      trainer,
      vocab,
      key: settingsKey(),
      corpus,
      text: corpus === 'own' ? text : '',
      batches: trainable ? textBatches(train, SEQ_LEN, BATCH) : [],
      validation,
      unigram: trainable ? unigramLoss(train, vocab.chars.length) : Number.NaN,
      steps: [...(loaded?.curve?.steps ?? [])],
      losses: [...(loaded?.curve?.losses ?? [])],
      validationLosses: [...(loaded?.curve?.validationLosses ?? [])],
    };
    publishModel({ trainer, vocab });
    // What the previous model showed is stale: its bars, its sample, its errors.
    clearProbabilities();
    clearSample();
    showError('nc-error');
    state.unigram = session.unigram;
    state.steps = trainer.steps;
    state.inWorker = trainer.inWorker;
    state.chartSteps = session.steps;
    for (const k of ['loss', 'validationLoss'] as const) delete state[k];
    redrawLoss();
    const unigram = session.unigram.toFixed(3);
    modelLine = () =>
      trainable
        ? t('nc.statsData', { distinct: vocab.chars.length, total: ids.length.toLocaleString(), unigram })
        : t('nc.statsUntrainable', { n: vocab.chars.length });
    say(stats, modelLine);
    trainButton.textContent = t(trainer.steps > 0 ? 'common.resume' : 'common.train');
    settingsChanged();
    await showProbabilities();
    return session;
  };

  const settingsKey = () =>
    ['nc-corpus', 'nc-mode', 'nc-hidden', 'nc-layers', 'nc-lr'].map((id) => byId<HTMLInputElement>(id).value).join('|') +
    (byId<HTMLSelectElement>('nc-corpus').value === 'own' ? textBox.value : '');

  // ---- Keeping the run in the page's storage ----
  const keptStatus = byId('nc-kept-status');
  const offer = byId('nc-kept');
  let kept: KeptStore | undefined;
  /** Bumped by forgetKept: a write queued before it is dropped. */
  let generation = 0;
  let queued: { s: Session; checkpoint: Uint8Array; step: number; generation: number } | undefined;
  let writer: Promise<void> | undefined;

  /** The checkpoint's metadata: the vocabulary and the text (a file carries the curve too). */
  const checkpointMetadata = (s: Session, withCurve: boolean): Record<string, string> => ({
    vocabulary: JSON.stringify(s.vocab.chars),
    corpus: s.corpus,
    ...(s.corpus === 'own' ? { corpus_text: s.text } : {}),
    ...(withCurve ? { curve: JSON.stringify(curveUpTo(s, s.trainer.steps)) } : {}),
  });
  const curveUpTo = (s: Curve, step: number): Curve => {
    const n = s.steps.filter((x) => x <= step).length;
    return { steps: s.steps.slice(0, n), losses: s.losses.slice(0, n), validationLosses: s.validationLosses.slice(0, n) };
  };

  /**
   * Stores `checkpoint` (taken at `step` of session `s`) with the curve up to it, in the background:
   * training does not wait for the storage; while a write is under way only the newest waiting
   * checkpoint is kept for the next one. (The CPU backend trains in a worker, demo/trainer-host.ts, and
   * WebGPU waits on the GPU: either way the page's thread is free to write them as they come.)
   */
  const keep = (s: Session, checkpoint: Uint8Array, step: number) => {
    if (!kept) return;
    queued = { s, checkpoint, step, generation };
    writer ??= (async () => {
      while (queued) {
        // A turn of the event loop first: fit reports the step's loss right after its checkpoint.
        await new Promise((r) => setTimeout(r, 0));
        const job = queued;
        queued = undefined;
        if (!job || job.generation !== generation || job.s !== session) continue;
        const run: KeptRun = { checkpoint: job.checkpoint, steps: job.step, corpus: job.s.corpus, curve: curveUpTo(job.s, job.step), savedAt: Date.now() };
        try {
          await kept!.put(KEPT_KEY, run);
          if (job.generation !== generation) continue;
          state.keptStep = job.step;
          (state.keptSteps ??= []).push(job.step);
          const step = job.step;
          say(keptStatus, () => t('nc.keptAt', { step }));
        } catch (e) {
          say(keptStatus, () => t('nc.keptFailed', { message: String((e as Error)?.message ?? e) }));
        }
      }
    })().finally(() => (writer = undefined));
  };

  /** Deletes the kept run (after any write already under way, which cannot bring it back). */
  const forgetKept = async () => {
    generation++;
    queued = undefined;
    offer.hidden = true;
    delete state.offer;
    if (!kept) return;
    await kept.delete(KEPT_KEY);
    delete state.keptStep;
    say(keptStatus, () => t('nc.keptNothing'));
  };

  // ---- Resuming a checkpoint: from the page's storage or a file ----
  /**
   * A checkpoint of this panel (or of `webgpu-rnn train --text`) as a new session: checked whole before
   * anything changes — a damaged file, weights alone, another kind of model are an error, and the
   * current session stays as it was. Then the controls, the text and the chart are the checkpoint's.
   */
  const resume = async (bytes: Uint8Array, name: string | (() => string), keptCurve?: Curve): Promise<Session> => {
    if (state.training) throw pageError('nc.stopFirst');
    const named = typeof name === 'string' ? () => name : name;
    /** One line: the file's name, then what is wrong (the page's words, or the library's message as it is). */
    const bad = (message: string | (() => string)): never => {
      throw new PageError(() => t('nc.badFile', { name: named(), message: typeof message === 'string' ? message : message() }));
    };
    let file: SafetensorsFile;
    try {
      file = readSafetensors(bytes);
    } catch (e) {
      return bad((e as Error).message);
    }
    const m = file.metadata;
    if (m.webgpu_rnn_checkpoint === undefined && m.model !== undefined) bad(() => t('nc.badWeightsAlone'));
    let trainer: PanelTrainer | undefined;
    try {
      const resumed = await openTrainer({ resume: file, backend: page.backend }).catch((e) => bad((e as Error).message));
      trainer = resumed as unknown as PanelTrainer;
      if ('encoder' in resumed.model) bad(() => t('nc.badSeq2seq'));
      let chars: unknown;
      try {
        chars = JSON.parse(m.vocabulary ?? 'null');
      } catch {
        chars = null;
      }
      if (!Array.isArray(chars) || chars.some((c) => typeof c !== 'string') || new Set(chars).size !== chars.length) bad(() => t('nc.badNoVocabulary'));
      const vocabulary = chars as string[];
      const model = trainer.model;
      if (model.embedding?.num_embeddings !== vocabulary.length || model.head?.out_features !== vocabulary.length || model.head.on !== 'output')
        bad(() => t('nc.badOtherModel', { n: vocabulary.length }));
      // The text: the checkpoint's own (a page corpus, or the visitor's text it carries), else the chosen one.
      const corpus = m.corpus in CORPUS_NAMES && (m.corpus !== 'own' || m.corpus_text !== undefined) ? m.corpus : undefined;
      const text = corpus ? await corpusText(corpus, m.corpus_text) : await corpusText();
      let curve = keptCurve;
      if (!curve && m.curve !== undefined) {
        try {
          const c = JSON.parse(m.curve) as Curve;
          const n = c.steps.length;
          const numbers = (a: unknown, orNull: boolean) =>
            Array.isArray(a) && a.length === n && a.every((x) => typeof x === 'number' || (orNull && x === null));
          if (numbers(c.steps, false) && numbers(c.losses, true) && numbers(c.validationLosses, true)) curve = c;
        } catch {
          // a curve that does not read is left out: the run resumes without its past chart
        }
      }
      // Checked: now the controls become the checkpoint's, and the session its.
      if (corpus) {
        byId<HTMLSelectElement>('nc-corpus').value = corpus;
        textBox.hidden = corpus !== 'own';
        if (corpus === 'own') textBox.value = text;
      }
      byId<HTMLSelectElement>('nc-mode').value = model.rnn.mode;
      byId<HTMLInputElement>('nc-hidden').value = String(model.rnn.hidden_size);
      byId<HTMLInputElement>('nc-layers').value = String(model.rnn.num_layers);
      byId<HTMLInputElement>('nc-lr').value = String(trainer.optimizer.lr);
      const vocab: Vocabulary = { chars: vocabulary, ids: new Map(vocabulary.map((c, i) => [c, i])) };
      const made = trainer;
      trainer = undefined; // the session owns it now
      const s = await newSession({ trainer: made, vocab, text, curve: curve && curveUpTo(curve, made.steps) });
      const line = modelLine;
      const { mode, hidden_size, num_layers } = model.rnn;
      const step = made.steps;
      say(stats, () =>
        t('nc.continued', { name: named(), step, mode, hidden: hidden_size, layers: num_layers, corpus: t(CORPUS_NAMES[s.corpus]), rest: line() }),
      );
      return s;
    } finally {
      await trainer?.destroy();
    }
  };

  const train = async () => {
    // Stop works from the press on: while a new model is made and its first step's pipelines compile too
    // (fit then stops before its next step). The model's controls are locked until the Train ends.
    stop = new AbortController();
    const signal = stop.signal;
    stopButton.disabled = false;
    state.training = true;
    lockModel(true);
    let made: Session | undefined;
    let finished = false;
    try {
      const s = !session || session.key !== settingsKey() ? await newSession() : session;
      made = s;
      if (!s.batches.length) throw pageError('nc.cannotTrain');
      // Training replaces what the page kept: the offer to continue it goes.
      offer.hidden = true;
      delete state.offer;
      const started = performance.now();
      const startStep = s.trainer.steps;
      let lastProbs = startStep;
      await s.trainer.fit(s.batches, {
        epochs: 10_000,
        // A Train goes on from the trainer's step (the same batch and carried state after a resume).
        startStep,
        maxSteps: maxSteps === undefined ? undefined : startStep + maxSteps,
        carryState: true,
        readEvery: 5,
        validation: s.validation,
        validateEvery: 50,
        signal,
        checkpointEvery: kept ? CHECKPOINT_EVERY : undefined,
        checkpointMetadata: checkpointMetadata(s, false),
        onCheckpoint: kept ? (bytes, info) => keep(s, bytes, info.step) : undefined,
        onProgress: async (p) => {
          const step = s.trainer.steps;
          s.steps.push(step);
          s.losses.push(p.loss ?? null);
          s.validationLosses.push(p.validationLoss ?? null);
          redrawLoss();
          Object.assign(state, { steps: step, loss: p.loss, ...(p.validationLoss === undefined ? {} : { validationLoss: p.validationLoss }) });
          const values = {
            step,
            loss: p.loss?.toFixed(3) ?? '…',
            unigram: s.unigram.toFixed(3),
            speed: Math.round(p.tokensPerSecond).toLocaleString(),
            seconds: ((performance.now() - started) / 1000).toFixed(0),
          };
          const heldOut = p.validationLoss;
          say(stats, () => t('nc.progress', { ...values, heldOut: heldOut === undefined ? '' : t('nc.progressHeldOut', { loss: heldOut.toFixed(3) }) }));
          if (step - lastProbs >= 25) {
            lastProbs = step;
            await showProbabilities();
          }
        },
      });
      finished = true;
      await showProbabilities();
    } finally {
      state.training = false;
      stopButton.disabled = true;
      lockModel(false);
    }
    // Where it stopped (Stop, or the end), kept for the next visit.
    if (finished && kept && made && session === made && made.trainer.steps > 0)
      keep(made, await made.trainer.checkpoint({ metadata: checkpointMetadata(made, false) }), made.trainer.steps);
  };

  /** Locks the model's controls while it trains (the reason shown), and unlocks them. */
  const lockModel = (locked: boolean) => {
    // New model and the loads would replace the model under the running Train: they wait for Stop too.
    for (const id of [...MODEL_CONTROLS, 'nc-text', 'nc-reset', 'nc-load', 'nc-load-checkpoint']) byId<HTMLInputElement>(id).disabled = locked;
    settingsChanged();
  };

  /**
   * Says plainly what Train will do: while it trains, that the model's controls are locked; once a model
   * has trained, when the controls no longer describe it, that Train would start a new model (the
   * button says so too); otherwise nothing.
   */
  const settingsChanged = () => {
    const note = byId('nc-settings-note');
    const changed = !state.training && session !== undefined && session.trainer.steps > 0 && session.key !== settingsKey();
    note.hidden = !state.training && !changed;
    note.textContent = state.training ? t('ux.locked') : changed ? t('ux.settingsChanged', { model: describeModel(session!) }) : '';
    state.settingsChanged = changed;
    if (!state.training) trainButton.textContent = t(changed ? 'ux.trainNew' : session && session.trainer.steps > 0 ? 'common.resume' : 'common.train');
  };
  onLanguageChange(() => settingsChanged());

  /** The trained model in a few words: its cell, size, layers, learning rate and text. */
  const describeModel = (s: Session): string => {
    const { rnn } = s.trainer.model;
    const corpus = byId<HTMLSelectElement>('nc-corpus').querySelector<HTMLOptionElement>(`option[value="${s.corpus}"]`)?.textContent ?? s.corpus;
    return `${rnn.mode} ${rnn.hidden_size}×${rnn.num_layers}, lr ${s.trainer.optimizer.lr}, ${corpus}`;
  };

  /** The sample continues the prompt and the model it was drawn from: it goes when either changes. */
  const clearSample = () => {
    byId('nc-sample-text').textContent = '';
    delete state.sample;
    showError('nc-sample-error');
  };

  trainButton.addEventListener('click', () => void busy(trainButton, 'nc-error', train));
  stopButton.addEventListener('click', () => stop?.abort());
  byId('nc-reset').addEventListener(
    'click',
    () =>
      void busy(trainButton, 'nc-error', async () => {
        await forgetKept();
        await newSession();
      }),
  );
  byId('nc-prompt').addEventListener('input', () => {
    clearSample();
    void showProbabilities().catch((e) => showError('nc-error', e));
  });
  // A corpus brings its own prompt; the bars, the sample and the errors of the last one go.
  byId('nc-corpus').addEventListener('change', () => {
    const corpus = byId<HTMLSelectElement>('nc-corpus').value;
    textBox.hidden = corpus !== 'own';
    const prompt = DEFAULT_PROMPTS[corpus] ?? Array.from(textBox.value.trim()).slice(0, 4).join('');
    if (prompt) byId<HTMLInputElement>('nc-prompt').value = prompt;
    clearProbabilities();
    clearSample();
    showError('nc-error');
    void showProbabilities().catch((e) => showError('nc-error', e));
  });
  for (const id of [...MODEL_CONTROLS, 'nc-text']) {
    byId(id).addEventListener('input', settingsChanged);
    byId(id).addEventListener('change', settingsChanged);
  }
  const temperature = byId<HTMLInputElement>('nc-temperature');
  temperature.addEventListener('input', () => (byId('nc-temperature-value').textContent = temperature.value));

  const sampleButton = byId<HTMLButtonElement>('nc-sample');
  sampleButton.addEventListener(
    'click',
    () =>
      void busy(sampleButton, 'nc-sample-error', async () => {
        const s = session ?? (await newSession());
        const prompt = byId<HTMLInputElement>('nc-prompt').value;
        const missing = [...new Set(Array.from(prompt))].filter((c) => !s.vocab.ids.has(c));
        if (!prompt || missing.length) throw prompt ? pageError('nc.sampleUnreadable', { chars: quoted(missing) }) : pageError('nc.sampleType');
        const ids = await s.trainer.sample(encode(s.vocab, prompt), {
          temperature: Number(temperature.value),
          maxTokens: 60,
          seed: Math.floor(Math.random() * 2 ** 31),
        });
        state.sample = prompt + decode(s.vocab, ids);
        byId('nc-sample-text').textContent = state.sample;
      }),
  );

  const downloadButton = byId<HTMLButtonElement>('nc-download');
  downloadButton.addEventListener(
    'click',
    () =>
      void busy(downloadButton, 'nc-sample-error', async () => {
        if (!session) throw pageError('nc.trainFirst');
        const metadata = {
          format: 'pt',
          model: JSON.stringify(session.trainer.model),
          vocabulary: JSON.stringify(session.vocab.chars),
          steps: String(session.trainer.steps),
        };
        download('next-char.safetensors', writeSafetensors(await session.trainer.parameters(), { floatDtype: 'F32', metadata }));
      }),
  );
  // The same model as an ONNX file (ONNX Runtime, or loadOnnx, runs it: tokens → next-character logits).
  const onnxButton = byId<HTMLButtonElement>('nc-download-onnx');
  onnxButton.addEventListener(
    'click',
    () =>
      void busy(onnxButton, 'nc-sample-error', async () => {
        if (!session) throw pageError('nc.trainFirst');
        download(
          'next-char.onnx',
          await exportModelOnnx(session.trainer.model, await session.trainer.parameters(), { metadata: { vocabulary: JSON.stringify(session.vocab.chars) } }),
        );
      }),
  );
  byId<HTMLInputElement>('nc-load').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    void busy(trainButton, 'nc-sample-error', async () => {
      const parsed = readSafetensors(new Uint8Array(await file.arrayBuffer()));
      if (!parsed.metadata.model || !parsed.metadata.vocabulary) throw pageError('nc.noMetadata', { name: file.name });
      const model = resolveModelConfig(JSON.parse(parsed.metadata.model));
      const chars = JSON.parse(parsed.metadata.vocabulary) as string[];
      const vocab: Vocabulary = { chars, ids: new Map(chars.map((c, i) => [c, i])) };
      const trainer = await openTrainer({ model, weights: parsed, backend: page.backend });
      // The controls become the model's: they describe what was loaded, and Train goes on with it.
      byId<HTMLSelectElement>('nc-mode').value = model.rnn.mode;
      byId<HTMLInputElement>('nc-hidden').value = String(model.rnn.hidden_size);
      byId<HTMLInputElement>('nc-layers').value = String(model.rnn.num_layers);
      await newSession({ trainer, vocab });
      const { mode, hidden_size, num_layers } = model.rnn;
      say(stats, () => t('nc.loaded', { name: file.name, mode, hidden: hidden_size, layers: num_layers, n: chars.length }));
    });
  });

  // The whole run as a file (the checkpoint, with the vocabulary, the text and the curve), and back.
  const checkpointButton = byId<HTMLButtonElement>('nc-download-checkpoint');
  checkpointButton.addEventListener(
    'click',
    () =>
      void busy(checkpointButton, 'nc-checkpoint-error', async () => {
        if (!session) throw pageError('nc.trainFirst');
        download('next-char.checkpoint.safetensors', await session.trainer.checkpoint({ metadata: checkpointMetadata(session, true) }));
      }),
  );
  const loadCheckpoint = byId<HTMLInputElement>('nc-load-checkpoint');
  loadCheckpoint.addEventListener('change', () => {
    const file = loadCheckpoint.files?.[0];
    if (!file) return;
    void busy(trainButton, 'nc-checkpoint-error', async () => {
      try {
        const s = await resume(new Uint8Array(await file.arrayBuffer()), file.name);
        // Kept in this browser from now on, as if trained here.
        await forgetKept();
        keep(s, await s.trainer.checkpoint({ metadata: checkpointMetadata(s, false) }), s.trainer.steps);
      } finally {
        loadCheckpoint.value = ''; // the same file again is a change too
      }
    });
  });

  // What the last visit left: offered, continued or discarded.
  const continueButton = byId<HTMLButtonElement>('nc-kept-continue');
  continueButton.addEventListener(
    'click',
    () =>
      void busy(continueButton, 'nc-checkpoint-error', async () => {
        const run = await kept?.get<KeptRun>(KEPT_KEY);
        if (!run) throw pageError('nc.keptGone');
        await resume(run.checkpoint, () => t('nc.keptModel'), run.curve);
        offer.hidden = true;
        delete state.offer;
      }),
  );
  const discardButton = byId<HTMLButtonElement>('nc-kept-discard');
  discardButton.addEventListener('click', () => void busy(discardButton, 'nc-checkpoint-error', forgetKept));
  void (async () => {
    kept = await openKept();
    state.storage = kept !== undefined;
    if (!kept) {
      say(keptStatus, () => t('nc.noStorage'));
      return;
    }
    let run: KeptRun | undefined;
    try {
      run = await kept.get<KeptRun>(KEPT_KEY);
    } catch (e) {
      say(keptStatus, () => t('nc.storageFailed', { message: String((e as Error)?.message ?? e) }));
      return;
    }
    if (!run || !(run.checkpoint instanceof Uint8Array)) {
      say(keptStatus, () => t('nc.keptNothing'));
      return;
    }
    state.keptStep = run.steps;
    const keptStep = run.steps;
    say(keptStatus, () => t('nc.keptAt', { step: keptStep }));
    if (session) return; // a model was made meanwhile
    const corpusKey = CORPUS_NAMES[run.corpus] ?? 'nc.corpusNameUnknown';
    const offerText = () => t('nc.offer', { steps: keptStep.toLocaleString(), corpus: t(corpusKey) });
    say(byId('nc-kept-text'), offerText);
    state.offer = offerText();
    offer.hidden = false;
  })();

  // Drop a text file on the box.
  textBox.addEventListener('dragover', (e) => {
    e.preventDefault();
    textBox.classList.add('dragging');
  });
  textBox.addEventListener('dragleave', () => textBox.classList.remove('dragging'));
  textBox.addEventListener('drop', (e) => {
    e.preventDefault();
    textBox.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) void file.text().then((t) => (textBox.value = t));
  });
}
