export { voiceWorker, VOICE_SERVICE } from './worker.js';
export { VoiceConfig } from './config.js';
export { VoiceService, type VoiceServiceOptions } from './voice-service.js';
export { VoiceSession } from './voice-session.js';
export { TurnController, type TurnState, type TurnPorts, type Clock } from './turn-controller.js';
