/** Messages between the main thread and an inference thread (structured-cloned; audio buffers transferred). */
import type { SpeechSettings } from '../settings.js';
import type { SttChoice } from '../stt/factory.js';
import type { TranscribeOptions } from '../stt/types.js';
import type { SpeakingUnit } from '../tts/text.js';
import type { SynthesisOptions } from '../tts/types.js';
import type { TtsChoice } from '../tts/factory.js';
import type { VadChoice } from '../vad/factory.js';
import type { VadOptions } from '../vad/types.js';

/** What a thread loads at start: the same engines in every thread of a pool. */
export interface ThreadEngines {
  vad?: VadChoice;
  stt?: SttChoice;
  tts?: TtsChoice[];
  /** the end-of-turn detector (Smart Turn), by model id */
  turn?: { model: string };
}

export interface ThreadStart {
  engines: ThreadEngines;
  settings: SpeechSettings;
  /** scheduling priority of the thread (Linux nice: 0 normal, 19 lowest) */
  niceness: number;
}

/** What a thread reports once its engines are loaded and warm. */
export interface ThreadReady {
  vad?: { name: string };
  stt?: { name: string };
  tts?: { id: string; sampleRate: number }[];
  turn?: { name: string };
}

export type TaskRequest =
  | { op: 'vad.open'; stream: number; options: Partial<VadOptions> }
  | { op: 'vad.push'; stream: number; audio: Int16Array }
  | { op: 'vad.flush'; stream: number }
  | { op: 'vad.close'; stream: number }
  | { op: 'stt.transcribe'; audio: Float32Array; options?: TranscribeOptions }
  | { op: 'turn.judge'; audio: Float32Array }
  | { op: 'tts.unit'; voice: string; unit: SpeakingUnit; options: Omit<SynthesisOptions, 'signal'> };

export type ToThread = { id: number; task: TaskRequest };

export type FromThread =
  | { type: 'ready'; ready: ThreadReady }
  | { type: 'failed'; error: ThreadErrorInfo }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: ThreadErrorInfo };

export interface ThreadErrorInfo {
  name: string;
  message: string;
}
