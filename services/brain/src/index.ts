export { brainWorker, BRAIN_SERVICE } from './worker.js';
export { BrainService, type BrainServiceOptions } from './brain-service.js';
export { BrainConfig, DEFAULT_SYSTEM_PROMPT, DEFAULT_FALLBACK_RESPONSE } from './config.js';
export { BrainGraph, buildMessages, estimateTokens, confidenceFrom, type BrainGraphOptions, type TurnInput, type TurnResult, type TurnRuntime, type PreviousTurn } from './graph.js';
export { SentenceSplitter, joinSentences, speakable, asksForDetail, CappedSentences, type AnswerCap } from './sentences.js';
export * from './intents/index.js';
export * from './model/index.js';
export * from './tools/index.js';
