export { parseWav, readWav, loadAudio, encodeWav, writeWav, type WavData } from './wav.js';
export { resample } from './resample.js';
export { FrameSplitter } from './framing.js';
export { int16ToFloat32, float32ToInt16, rms, downmix, durationMs, concatAudio } from './pcm.js';
export { UtteranceBuffer } from './utterance-buffer.js';
