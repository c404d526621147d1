import { Type, type Static } from '@arc/runtime';
import { DEFAULT_VOICE, SpeechConfig, TtsEngines } from '@arc/speech';

const engineNames = TtsEngines.names;

/** Environment variables of the TTS worker (the common ones are added by the runtime). */
export const TtsConfig = Type.Composite([SpeechConfig, Type.Object({
  LIVEKIT_URL: Type.String({ pattern: '^wss?://', description: 'LiveKit server the agent speaks through' }),
  LIVEKIT_API_KEY: Type.String({ minLength: 1, description: 'LiveKit API key' }),
  LIVEKIT_API_SECRET: Type.String({ minLength: 1, description: 'LiveKit API secret' }),
  TTS_ENGINE: Type.Union(engineNames.map((name) => Type.Literal(name)), { default: 'piper', description: `TTS engine (${engineNames.join(', ')})` }),
  TTS_VOICES: Type.String({ default: DEFAULT_VOICE, description: 'voices to load at start (model ids, comma-separated); the first is the default' }),
  TTS_SAMPLE_RATE: Type.Integer({ minimum: 8000, maximum: 48_000, default: 48_000, description: 'rate of the agent track (requests may ask for another sample_rate for a new room)' }),
  TTS_QUEUE_GROUP: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'arc-tts', description: 'queue group of TTS workers' }),
  TTS_MAX_ROOMS: Type.Integer({ minimum: 1, maximum: 10_000, default: 8, description: 'rooms this worker speaks in at most; at the maximum it leaves the queue group and takes no new room' }),
  TTS_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 120_000, description: 'leave a room after this long without requests' }),
  TTS_LISTENER_WAIT_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 2_000, description: 'a newly joined agent holds its first audio until someone in the room subscribes to its track, at most this long: nobody misses the first words' }),
  TTS_IDENTITY: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'arc-agent', description: 'participant identity of the speaking agent' }),
  TTS_MAX_TEXT_CHARS: Type.Integer({ minimum: 1, maximum: 20_000, default: 2_000, description: 'longer texts are refused with agent.tts.error (2,000 characters ≈ 2 minutes of speech)' }),
})]);
export type TtsConfig = Static<typeof TtsConfig>;
