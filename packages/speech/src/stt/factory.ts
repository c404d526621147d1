import { SpeechError } from '../errors.js';
import { MoonshineStt } from './moonshine.js';
import type { SttEngine } from './types.js';
import { WhisperOnnxStt } from './whisper.js';

/** Engine choice as configuration (e.g. from env STT_ENGINE / STT_MODEL_DIR), so a swap needs no code. */
export type SttConfig = { engine: 'moonshine'; dir?: string } | { engine: 'whisper'; dir: string; quantized?: boolean };

export async function createStt(config: SttConfig = { engine: 'moonshine' }): Promise<SttEngine> {
  switch (config.engine) {
    case 'moonshine':
      return MoonshineStt.load(config.dir ? { dir: config.dir } : {});
    case 'whisper':
      return WhisperOnnxStt.load({ dir: config.dir, quantized: config.quantized ?? false });
    default:
      throw new SpeechError(`unknown STT engine ${JSON.stringify((config as { engine: unknown }).engine)} (known: moonshine, whisper)`);
  }
}
