export type { VadEngine, VadSegmenter, VadOptions, VadEvent, SpeechSegment } from './types.js';
export { DEFAULT_VAD_OPTIONS } from './types.js';
export { SileroVad, VadStream, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, type VadModelState } from './silero.js';
export { VadEngines, type VadEngineName } from './factory.js';
