export { ttsWorker, TTS_SERVICE, TtsRequestError } from './worker.js';
export { TtsConfig } from './config.js';
export { RoomSpeaker, type SpeakJob, type SpeakOutcome } from './room-speaker.js';
export { TtsRoomRouter, NoTtsWorkerError, type TtsRouterOptions } from './router.js';
