export type { SttEngine, Transcript, TranscribeOptions } from './types.js';
export { MoonshineStt, type MoonshineOptions } from './moonshine.js';
export { MoonshineTokenizer } from './moonshine-tokenizer.js';
export { WhisperOnnxStt, whisperFiles, logMelSpectrogram, type WhisperOptions } from './whisper.js';
export { SttEngines, type SttEngineName } from './factory.js';
