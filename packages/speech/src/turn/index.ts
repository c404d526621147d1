export { SmartTurnDetector, smartTurnFeatures, SMART_TURN_SAMPLE_RATE } from './smart-turn.js';
