export { SileroVad, VadStream, DEFAULT_VAD_OPTIONS, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, type VadOptions, type VadEvent, type SpeechSegment, type VadModelState } from './silero.js';
