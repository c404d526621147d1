import { Type, type Static } from '@arc/runtime';
import { SpeechConfig, SttEngines, VadEngines } from '@arc/speech';
import { DEFAULT_BACKCHANNELS } from './turn-policy.js';

export const DEFAULT_VOICE_FALLBACK = "Sorry, I can't answer right now. Please try again in a moment.";
export const DEFAULT_BUSY_MESSAGE = 'All our agents are busy right now. Please try again in a moment.';

const vadEngines = VadEngines.names;
const sttEngines = SttEngines.names;

/** Environment variables of the voice worker (the common ones are added by the runtime). */
export const VoiceConfig = Type.Composite([SpeechConfig, Type.Object({
  LIVEKIT_URL: Type.String({ pattern: '^wss?://', description: 'LiveKit server' }),
  LIVEKIT_API_KEY: Type.String({ minLength: 1, description: 'LiveKit API key (also verifies webhooks)' }),
  LIVEKIT_API_SECRET: Type.String({ minLength: 1, description: 'LiveKit API secret' }),
  VOICE_HTTP_HOST: Type.String({ default: '127.0.0.1', description: 'address of the webhook/health HTTP server' }),
  VOICE_HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 8088, description: 'port of POST /livekit/webhook and GET /healthz (0 = any free port)' }),
  VOICE_VAD_ENGINE: Type.Union(vadEngines.map((name) => Type.Literal(name)), { default: 'silero', description: `voice-activity detector (${vadEngines.join(', ')})` }),
  VOICE_VAD_MODEL: Type.Optional(Type.String({ minLength: 1, description: "VAD model: a manifest id of the engine's models or a directory (default: the engine's default)" })),
  VOICE_STT_ENGINE: Type.Union(sttEngines.map((name) => Type.Literal(name)), { default: 'moonshine', description: `speech-to-text engine (${sttEngines.join(', ')})` }),
  VOICE_STT_MODEL: Type.Optional(Type.String({ minLength: 1, description: "STT model: a manifest id of the engine's models or a directory (whisper: required)" })),
  VOICE_TURN_DETECTOR: Type.Union([Type.Literal('smart-turn'), Type.Literal('vad')], {
    default: 'smart-turn',
    description: 'what ends a user turn: smart-turn (a model judges each pause from the audio of the turn) or vad (silence alone, VOICE_EOU_SILENCE_MS)',
  }),
  VOICE_TURN_MODEL: Type.String({ minLength: 1, default: 'smart-turn-v3.2', description: 'end-of-turn model (manifest id), smart-turn mode' }),
  VOICE_TURN_PAUSE_MS: Type.Integer({ minimum: 50, maximum: 5_000, default: 200, description: 'smart-turn: silence after which the model judges whether the turn is over' }),
  VOICE_TURN_STT_MS: Type.Integer({
    minimum: 0,
    maximum: 5_000,
    default: 96,
    description:
      'smart-turn: after this much silence the turn so far is transcribed, so its words are ready (or nearly) when the pause is judged at VOICE_TURN_PAUSE_MS (0, or not below VOICE_TURN_PAUSE_MS: transcribed at the pause)',
  }),
  VOICE_TURN_THRESHOLD: Type.Number({ minimum: 0.05, maximum: 0.95, default: 0.5, description: 'smart-turn: P(complete) at or above which a pause ends the turn' }),
  VOICE_TURN_TEXT_SILENCE_MS: Type.Integer({
    minimum: 100,
    maximum: 10_000,
    default: 500,
    description:
      'smart-turn: silence that ends a turn the model judged unfinished whose words read as a finished sentence (. ? or ! on a word a sentence ends on); at or above VOICE_TURN_MAX_SILENCE_MS the model alone decides',
  }),
  VOICE_TURN_MAX_SILENCE_MS: Type.Integer({
    minimum: 100,
    maximum: 10_000,
    default: 1_500,
    description: 'smart-turn: silence that ends a turn whatever the model says (a user judged mid-sentence who says no more)',
  }),
  VOICE_BARGE_IN_MS: Type.Integer({
    minimum: 32,
    maximum: 2_000,
    default: 96,
    description: 'speech over the agent this long (at VOICE_BARGE_IN_THRESHOLD) stops it; at or above VOICE_MIN_SPEECH_MS, barge-in waits for that',
  }),
  VOICE_BARGE_IN_THRESHOLD: Type.Number({
    minimum: 0.05,
    maximum: 0.99,
    default: 0.7,
    description: "speech probability of a barge-in: above VOICE_VAD_THRESHOLD, so the agent's own voice coming back through a speakerphone does not stop it",
  }),
  VOICE_BARGE_IN_SOUND_MS: Type.Integer({
    minimum: 0,
    maximum: 2_000,
    default: 64,
    description:
      'sound this long over the agent (10 dB over the quiet before it) stops it before the VAD rates it speech: the first sound of "Stop" or "Sorry" is rated low for 100 ms and more; a sound that fades resumes the agent, and a burst of such false stops (the agent heard back through a speaker) turns it off for the session; 0 = only likely speech stops the agent',
  }),
  VOICE_INTERRUPTION_RESUME: Type.Boolean({
    default: true,
    description: 'speech over the agent stops it at once; if it holds no words (a noise) or only a backchannel, the agent goes on from the sentence it was cut in',
  }),
  VOICE_BACKCHANNELS: Type.String({
    pattern: "^[a-z'-]+(,[a-z'-]+)*$",
    default: DEFAULT_BACKCHANNELS,
    description: 'words that, said alone over the agent, only show the user is listening (comma-separated, lower case)',
  }),
  VOICE_BACKCHANNEL_MAX_WORDS: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'a backchannel has at most this many words' }),
  VOICE_EOU_SILENCE_MS: Type.Integer({ minimum: 100, maximum: 5_000, default: 500, description: 'vad mode: silence that ends a user turn' }),
  VOICE_EARLY_STT_MS: Type.Integer({
    minimum: 0,
    maximum: 5_000,
    default: 200,
    description:
      'vad mode: after this much silence the utterance so far is transcribed at once, in case the pause ends it (0 = only at the end of the utterance); smart-turn mode: VOICE_TURN_STT_MS',
  }),
  VOICE_MIN_SPEECH_MS: Type.Integer({ minimum: 50, maximum: 2_000, default: 250, description: 'speech shorter than this is noise: it neither starts a turn nor interrupts the agent' }),
  VOICE_MAX_TURN_MS: Type.Integer({ minimum: 1_000, maximum: 120_000, default: 20_000, description: 'a turn is cut after this much continuous speech' }),
  VOICE_VAD_THRESHOLD: Type.Number({ minimum: 0.05, maximum: 0.95, default: 0.5, description: 'Silero speech probability threshold' }),
  VOICE_MAX_PREVIOUS_TURNS: Type.Integer({ minimum: 0, maximum: 100, default: 10, description: 'turns of history sent with each brain request' }),
  VOICE_BRAIN_TIMEOUT_MS: Type.Integer({ minimum: 500, maximum: 120_000, default: 10_000, description: 'no brain answer by then → the fallback is spoken and agent.voice.error published' }),
  VOICE_FALLBACK_RESPONSE: Type.String({ minLength: 1, maxLength: 2_000, default: DEFAULT_VOICE_FALLBACK, description: 'spoken when the brain does not answer' }),
  VOICE_LLM_MAX_TOKENS: Type.Integer({ minimum: 1, maximum: 32_768, default: 200, description: 'constraints.max_tokens of brain requests' }),
  VOICE_LLM_TEMPERATURE: Type.Number({ minimum: 0, maximum: 2, default: 0.7, description: 'constraints.temperature of brain requests' }),
  VOICE_LLM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 8_000, description: 'constraints.timeout_ms of brain requests' }),
  VOICE_TTS_VOICE: Type.Optional(Type.String({ minLength: 1, description: 'voice_id of TTS requests (the TTS worker default when unset)' })),
  VOICE_IDENTITY: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'arc-listener', description: 'identity prefix of the hidden listening participant' }),
  VOICE_MAX_SESSIONS: Type.Integer({ minimum: 1, maximum: 10_000, default: 8, description: 'sessions this worker holds at most; at the maximum it leaves the queue group and takes no new room' }),
  VOICE_QUEUE_GROUP: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'arc-scarlett-voice', description: 'queue group of voice workers for agent.voice.track.published' }),
  VOICE_BUSY_MESSAGE: Type.String({
    minLength: 1,
    maxLength: 500,
    default: DEFAULT_BUSY_MESSAGE,
    description: 'spoken at once when every voice or TTS worker is at its maximum',
  }),
  VOICE_AGENT_IDENTITY_PREFIXES: Type.String({
    pattern: '^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$',
    default: 'arc-agent',
    description: "identity prefixes of ARC's own participants (the TTS agent's TTS_IDENTITY); their tracks never start or end a user session",
  }),
  VOICE_RECONCILE_INTERVAL_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 15_000,
    description: 'how often LiveKit is asked for user microphones nobody listens to (a restart, a lost listener); 0 = only at start',
  }),
})]);
export type VoiceConfig = Static<typeof VoiceConfig>;
