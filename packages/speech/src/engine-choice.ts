/**
 * Engines chosen by configuration. Each modality (VAD, STT, TTS) has a table of engines by name;
 * adding an engine takes its file, one entry in its table and its model in the manifest — the
 * workers' *_ENGINE variables accept every name a table lists. The choice is checked before
 * anything loads, so a wrong name or model fails at start with a message that names it.
 */
import { existsSync, statSync } from 'node:fs';
import { loadManifest } from '@arc/models';
import { EngineChoiceError } from './errors.js';
import type { SpeechSettings } from './settings.js';

export interface EngineEntry<E> {
  /** the manifest's `engine` of this engine's models; absent when models are the user's own directories */
  manifestEngine?: string;
  /** model used when none is chosen; absent when one must be given */
  defaultModel?: string;
  /** the manifest id of a model's other name (Piper's `en_US-joe-medium` → `piper-en_US-joe-medium`) */
  modelId?(name: string): string;
  /** loads (and warms up) the engine: `model` is a manifest id or a directory */
  load(model: string, settings: SpeechSettings): Promise<E>;
}

export interface EngineChoice<N extends string> {
  engine: N;
  /** a manifest model id of that engine, or a directory with the model's files */
  model?: string | undefined;
}

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The engine entry and model of a choice; throws EngineChoiceError. */
export function resolveEngineChoice<E, N extends string>(
  table: Record<N, EngineEntry<E>>,
  choice: EngineChoice<N>,
): { entry: EngineEntry<E>; model: string } {
  const entry = (table as Record<string, EngineEntry<E> | undefined>)[choice.engine];
  if (!entry) throw new EngineChoiceError('engine', choice.engine, `is not an engine here (known: ${Object.keys(table).join(', ')})`);
  const chosen = choice.model ?? entry.defaultModel;
  if (chosen === undefined) throw new EngineChoiceError('model', '', `is required for the ${choice.engine} engine (a model directory)`);
  if (isDirectory(chosen)) return { entry, model: chosen };
  const model = entry.modelId?.(chosen) ?? chosen;
  const known = entry.manifestEngine ? loadManifest().models.filter((m) => m.engine === entry.manifestEngine).map((m) => m.id) : [];
  if (!known.includes(model)) {
    const expected = entry.manifestEngine ? `a ${choice.engine} model of models/manifest.json (${known.join(', ') || 'none listed'}) or a directory` : 'a model directory';
    throw new EngineChoiceError('model', model, `is not ${expected}`);
  }
  return { entry, model };
}

/** One modality's engines (VAD, STT or TTS): the table, its names, and checking and loading a choice. */
export interface EngineKind<E, N extends string> {
  readonly engines: Readonly<Record<N, EngineEntry<E>>>;
  readonly names: readonly N[];
  /** throws EngineChoiceError when the choice cannot work (the manifest is read; nothing loads) */
  check(choice: EngineChoice<N>): void;
  /** checks the choice, then loads and warms up the engine */
  create(choice: EngineChoice<N>, settings: SpeechSettings): Promise<E>;
}

export type EngineNameOf<K> = K extends EngineKind<unknown, infer N> ? N : never;

export function engineKind<E>() {
  return <N extends string>(engines: Record<N, EngineEntry<E>>): EngineKind<E, N> => ({
    engines,
    names: Object.keys(engines) as N[],
    check: (choice) => void resolveEngineChoice(engines, choice),
    create: async (choice, settings) => {
      const { entry, model } = resolveEngineChoice(engines, choice);
      return entry.load(model, settings);
    },
  });
}
