/**
 * The next-character panel's current model, for the panels that look inside it (the gates panel):
 * next-char.ts publishes its trainer and vocabulary whenever it makes or loads one; the readers ask
 * for it when they need it and hear when it changes. Only a reference changes hands: the model stays
 * the next-character panel's (it trains it, and destroys it when it makes another).
 */
import type { Vocabulary } from '../src/index.js';
import type { PanelTrainer } from './trainer-host.js';

export interface SharedModel {
  trainer: PanelTrainer;
  vocab: Vocabulary;
}

let current: SharedModel | undefined;
const listeners: Array<(model: SharedModel | undefined) => void> = [];

/** The next-character panel's model now (undefined before it made one). */
export function sharedModel(): SharedModel | undefined {
  return current;
}

/** Called by the next-character panel with each model it makes or loads. */
export function publishModel(model: SharedModel | undefined): void {
  current = model;
  for (const listen of listeners) listen(model);
}

export function onModelChange(listen: (model: SharedModel | undefined) => void): void {
  listeners.push(listen);
}
