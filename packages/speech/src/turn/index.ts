export { SmartTurnDetector, smartTurnFeatures, SMART_TURN_SAMPLE_RATE } from './smart-turn.js';

/** Has the user finished their turn? In-process (SmartTurnDetector) or in an inference thread (PooledTurnDetector). */
export interface TurnDetector {
  readonly name: string;
  /** P(the turn is complete) for the turn's audio so far (16 kHz mono), ending with the pause being judged */
  completeProbability(audio: Float32Array): Promise<number>;
  close(): Promise<void>;
}
