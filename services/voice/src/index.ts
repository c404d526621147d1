export { voiceWorker, VOICE_SERVICE } from './worker.js';
export { VoiceConfig } from './config.js';
export { VoiceSession } from './session.js';
