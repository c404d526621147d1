export { ttsWorker, TTS_SERVICE } from './worker.js';
export { TtsService, TtsRequestError, type TtsServiceOptions } from './tts-service.js';
export { TtsConfig } from './config.js';
export { RoomSpeaker, type SpeakJob, type SpeakOutcome } from './room-speaker.js';
