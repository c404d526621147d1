/**
 * One JSON Schema per subject (TypeBox), field names exactly as in seed 002. These schemas are
 * the single source of truth: TypeScript types are derived from them (`Static`), the bus
 * validates against them, and `schemas/*.schema.json` are generated from them for clients in
 * other languages.
 *
 * Required vs optional, in general:
 * - `timestamp` and `trace_id` are required on the wire: every consumer needs the timestamp for
 *   the TTL check and hop latency, and the trace id to join spans. Publishers do not have to
 *   set them: the bus fills both when absent.
 * - identifiers that a consumer routes by (request_id, session_id, room names, track sids) are
 *   required; descriptive fields (user_id, conversation_id, metadata) are optional because
 *   anonymous users and single-turn uses do not have them.
 * - unknown extra fields are allowed (tolerant reader) so producers can roll out new fields
 *   before every consumer is upgraded; wrong types and missing required fields are not.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { RequestSubject } from './subjects.js';

const ID_MAX = 256;
/** Largest user utterance / answer text accepted on the bus. */
export const MAX_TEXT_CHARS = 20_000;
/** Free-form objects (profiles, metadata) may nest at most this deep. */
export const MAX_OBJECT_DEPTH = 6;

const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601 UTC time the event was produced' });
/** A W3C trace id (32 hex) or a UUID. */
export const TRACE_ID_PATTERN = '^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$';
const TraceId = Type.String({
  pattern: TRACE_ID_PATTERN,
  description: 'W3C trace id (32 hex) or UUID; carried from the first event of a turn to the last',
});
const Id = (description: string) => Type.String({ minLength: 1, maxLength: ID_MAX, description });
const NonNegativeInt = (description: string) => Type.Integer({ minimum: 0, description });
const NonNegative = (description: string) => Type.Number({ minimum: 0, description });
/** The voice worker owning a session, named in its requests: answering events also go to its owner subject (see ownerSubject). */
const OwnerInstance = Type.Optional(
  Type.String({
    pattern: '^[A-Za-z0-9_-]{1,128}$',
    description: "instance id of the voice worker that owns the session: the answering events are also published to `<prefix>.to.<owner_instance>.<action>` (e.g. agent.brain.to.voice-1.response), which only it reads",
  }),
);
const FreeObject = (description: string) =>
  Type.Record(Type.String(), Type.Unknown(), { maxProperties: 100, maxDepth: MAX_OBJECT_DEPTH, description });

// ---------------------------------------------------------------- voice
export const TrackPublishedSchema = Type.Object(
  {
    event: Type.Literal('track_published'),
    timestamp: Timestamp,
    trace_id: TraceId,
    room_name: Id('LiveKit room name'),
    room_sid: Type.Optional(Id('LiveKit room sid')),
    participant_sid: Id('LiveKit participant sid'),
    participant_identity: Id('participant identity (the user id in ARC rooms)'),
    track_sid: Id('LiveKit track sid the STT worker subscribes to'),
    track_kind: Type.Union([Type.Literal('audio'), Type.Literal('video')]),
    track_source: Type.Optional(Type.String({ maxLength: 64, description: 'microphone, screen_share_audio, …' })),
    metadata: Type.Optional(FreeObject('participant metadata, e.g. user_id and session_id')),
  },
  { $id: 'agent.voice.track.published', description: 'A user published a track in a LiveKit room (from the LiveKit webhook).' },
);

export const TrackUnpublishedSchema = Type.Object(
  {
    event: Type.Literal('track_unpublished'),
    timestamp: Timestamp,
    trace_id: TraceId,
    room_name: Id('LiveKit room name'),
    participant_sid: Id('LiveKit participant sid'),
    participant_identity: Type.Optional(Id('participant identity')),
    track_sid: Id('LiveKit track sid'),
    reason: Type.String({ minLength: 1, maxLength: 128, description: 'why it ended, e.g. user_disconnected' }),
    duration_seconds: NonNegative('how long the track was published'),
  },
  { $id: 'agent.voice.track.unpublished', description: 'A user track ended; STT state for it is cleaned up.' },
);

export const SessionStartedSchema = Type.Object(
  {
    event: Type.Literal('session_started'),
    timestamp: Timestamp,
    trace_id: TraceId,
    user_id: Id('user id'),
    session_id: Id('conversation session id'),
    room_name: Id('LiveKit room name'),
    room_sid: Type.Optional(Id('LiveKit room sid')),
    participant_sid: Id('LiveKit participant sid'),
    agent_id: Id('service that runs the session, e.g. arc-scarlett-voice'),
    instance_id: Type.Optional(Id('voice worker instance that runs it: of two that started one for the same track, the earlier (then the smaller id) keeps it')),
    track_sid: Type.Optional(Id("LiveKit sid of the user's microphone track it listens to")),
  },
  { $id: 'agent.voice.session.started', description: 'A user joined and the voice worker started a session.' },
);

export const TranscriptInterimSchema = Type.Object(
  {
    timestamp: Timestamp,
    trace_id: TraceId,
    session_id: Id('conversation session id'),
    room_name: Id('LiveKit room name'),
    user_id: Id('user id'),
    text: Type.String({ maxLength: 20_000, description: 'what the user has said so far in the turn being spoken' }),
    audio_ms: NonNegative('audio of the turn transcribed so far'),
  },
  {
    $id: 'agent.voice.transcript.interim',
    description:
      'What the user has said so far, transcribed at a pause while they speak (for the playground and monitors). The turn may go on; the final words are the user_input of agent.brain.request.',
  },
);

export const FinalStatuses = ['completed', 'failed', 'timed_out', 'abandoned'] as const;

export const SessionEndedSchema = Type.Object(
  {
    event: Type.Literal('session_ended'),
    timestamp: Timestamp,
    trace_id: TraceId,
    user_id: Id('user id'),
    session_id: Id('conversation session id'),
    room_name: Id('LiveKit room name'),
    duration_seconds: NonNegative('session length'),
    total_turns: NonNegativeInt('user turns answered'),
    reason: Type.String({ minLength: 1, maxLength: 128, description: 'user_left, room_finished, livekit_node_lost (the LiveKit node holding the room was lost), track_replaced (the user published a new microphone), timeout, shutdown, …' }),
    final_status: Type.Union(FinalStatuses.map((s) => Type.Literal(s))),
    voice_to_voice_ms: Type.Optional(
      Type.Object(
        { count: NonNegativeInt('turns measured'), p50: NonNegative('median'), p90: NonNegative('90th percentile'), max: NonNegative('worst') },
        { description: 'end of user speech → first agent audio, per turn' },
      ),
    ),
  },
  { $id: 'agent.voice.session.ended', description: 'A session ended; totals for the conversation.' },
);

// ---------------------------------------------------------------- brain
export const PreviousTurnSchema = Type.Object({
  user: Type.String({ maxLength: MAX_TEXT_CHARS }),
  agent: Type.String({ maxLength: MAX_TEXT_CHARS }),
  interrupted: Type.Optional(Type.Boolean({ description: 'the agent answer was cut off by the user (barge-in)' })),
});

export const BrainConstraintsSchema = Type.Object(
  {
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 32_768 })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
    max_sentences: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, description: 'most sentences the spoken answer may have (default BRAIN_MAX_SENTENCES)' })),
    max_words: Type.Optional(Type.Integer({ minimum: 1, maximum: 20_000, description: 'most words the spoken answer may have (default BRAIN_MAX_WORDS)' })),
  },
  { description: 'limits the brain enforces; absurd values are rejected here rather than silently clamped' },
);

export const BrainRequestSchema = Type.Object(
  {
    request_id: Id('unique per turn; responses and errors carry it back'),
    timestamp: Timestamp,
    trace_id: TraceId,
    user_id: Type.Optional(Id('user id')),
    session_id: Id('session the answer is routed back to'),
    conversation_id: Type.Optional(Id('conversation id')),
    turn_index: Type.Optional(NonNegativeInt('0-based turn number in the session')),
    user_input: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS, description: 'transcript of the user turn' }),
    context: Type.Optional(
      Type.Object({
        previous_turns: Type.Optional(Type.Array(PreviousTurnSchema, { maxItems: 100 })),
        user_profile: Type.Optional(FreeObject('what is known about the user (location, preferences)')),
      }),
    ),
    constraints: Type.Optional(BrainConstraintsSchema),
    owner_instance: OwnerInstance,
  },
  { $id: 'agent.brain.request', description: 'A transcribed user turn for the reasoning engine (queue group: one brain worker answers).' },
);

export const BrainPartialSchema = Type.Object(
  {
    request_id: Id('request this sentence answers'),
    timestamp: Timestamp,
    trace_id: TraceId,
    session_id: Type.Optional(Id('session id')),
    turn_index: Type.Optional(NonNegativeInt('turn number')),
    sequence: NonNegativeInt('0-based order of this sentence within the answer'),
    text: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS, description: 'one complete sentence' }),
  },
  { $id: 'agent.brain.partial', description: 'One complete sentence of an answer still being generated, so TTS can start early.' },
);

export const BrainResponseSchema = Type.Object(
  {
    request_id: Id('request answered'),
    timestamp: Timestamp,
    trace_id: TraceId,
    user_id: Type.Optional(Id('user id')),
    session_id: Id('session id'),
    conversation_id: Type.Optional(Id('conversation id')),
    turn_index: Type.Optional(NonNegativeInt('turn number')),
    agent_response: Type.String({ maxLength: MAX_TEXT_CHARS, description: 'the full answer text' }),
    metadata: Type.Object({
      llm_model: Type.String({ minLength: 1, maxLength: ID_MAX }),
      tokens_used: NonNegativeInt('prompt + completion tokens'),
      reasoning_steps: NonNegativeInt('graph steps taken'),
      tools_called: Type.Array(Type.String({ maxLength: ID_MAX }), { maxItems: 100 }),
      confidence_score: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    }),
    performance: Type.Object({
      llm_latency_ms: NonNegative('time spent waiting on the model'),
      time_to_first_token_ms: Type.Optional(NonNegative('request sent → first token')),
      total_processing_ms: NonNegative('request received → response published'),
    }),
  },
  { $id: 'agent.brain.response', description: 'The complete answer to a brain request.' },
);

/** overloaded: the request could not start within its deadline and was refused at once (no waiting for the timeout). */
export const BrainErrorTypes = ['timeout', 'rate_limited', 'upstream_error', 'invalid_request', 'internal_error', 'overloaded'] as const;

export const BrainErrorSchema = Type.Object(
  {
    request_id: Id('request that failed'),
    timestamp: Timestamp,
    trace_id: TraceId,
    session_id: Type.Optional(Id('session id')),
    error_type: Type.Union(BrainErrorTypes.map((t) => Type.Literal(t))),
    error_message: Type.String({ maxLength: 4096 }),
    retry_count: NonNegativeInt('model calls retried before giving up'),
    fallback_response: Type.String({ maxLength: MAX_TEXT_CHARS, description: 'what the agent says instead' }),
  },
  { $id: 'agent.brain.error', description: 'A brain request failed; the voice worker speaks fallback_response.' },
);

// ---------------------------------------------------------------- tts
export const AudioFormats = ['pcm', 'opus', 'wav'] as const;
const AudioFormat = Type.Union(AudioFormats.map((f) => Type.Literal(f)));

export const TtsRequestSchema = Type.Object(
  {
    request_id: Id('unique per utterance'),
    timestamp: Timestamp,
    trace_id: TraceId,
    text: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS, description: 'what to say' }),
    voice_id: Type.Optional(Id('voice from the models manifest; the worker default when absent')),
    session_id: Id('session id'),
    target_room: Id('LiveKit room to speak into'),
    owner_instance: OwnerInstance,
    prepare: Type.Optional(
      Type.Boolean({ description: "join the room and publish the agent's track now, ahead of the first answer; nothing is said (text is ignored)" }),
    ),
    constraints: Type.Optional(
      Type.Object({
        max_latency_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
        format: Type.Optional(AudioFormat),
        sample_rate: Type.Optional(Type.Integer({ minimum: 8000, maximum: 48_000 })),
      }),
    ),
  },
  { $id: 'agent.tts.request', description: 'Speak text into a room (queue group).' },
);

export const TtsCompletedSchema = Type.Object(
  {
    request_id: Id('request completed'),
    timestamp: Timestamp,
    trace_id: TraceId,
    audio_track_sid: Type.String({ maxLength: ID_MAX, description: 'LiveKit track the audio was played on' }),
    duration_ms: NonNegative('audio length'),
    synthesis_latency_ms: NonNegative('request received → synthesis finished'),
    audio_format: AudioFormat,
    ready_for_playback: Type.Boolean(),
    status: Type.Optional(Type.Union([Type.Literal('completed'), Type.Literal('cancelled')])),
    time_to_first_audio_ms: Type.Optional(NonNegative('request received → first frame captured')),
    instance_id: Type.Optional(Id('TTS worker instance that spoke')),
    session_id: Type.Optional(Id('session id')),
    target_room: Type.Optional(Id('room spoken into')),
    played_ms: Type.Optional(NonNegative('cancelled: audio that had played to the room before the cut')),
    heard_text: Type.Optional(Type.String({ maxLength: 20_000, description: 'cancelled: the words of the text the listener had heard before the cut' })),
  },
  { $id: 'agent.tts.completed', description: 'Synthesis of a request finished (or was cancelled).' },
);

export const BrainCancelSchema = Type.Object(
  {
    timestamp: Timestamp,
    trace_id: TraceId,
    request_id: Id('the agent.brain.request to stop'),
    session_id: Type.Optional(Id('session id')),
    reason: Type.Optional(Type.String({ maxLength: 128, description: 'e.g. barge_in, superseded' })),
  },
  {
    $id: 'agent.brain.cancel',
    description:
      'Stop answering a request (barge-in, or the user went on speaking): the worker generating it aborts the model call and its tool calls and publishes nothing more for it. Every brain worker receives it (no queue group).',
  },
);

export const TtsCancelSchema = Type.Object(
  {
    timestamp: Timestamp,
    trace_id: TraceId,
    target_room: Type.Optional(Id('stop everything queued or playing in this room')),
    request_id: Type.Optional(Id('stop this request only')),
    session_id: Type.Optional(Id('session id')),
    reason: Type.Optional(Type.String({ maxLength: 128, description: 'e.g. barge_in' })),
  },
  {
    $id: 'agent.tts.cancel',
    description: 'Barge-in: stop playback. At least one of target_room or request_id is required.',
    anyOf: [{ required: ['target_room'] }, { required: ['request_id'] }],
  },
);

export const TtsAcceptedSchema = Type.Object(
  {
    request_id: Id('request accepted'),
    timestamp: Timestamp,
    trace_id: TraceId,
    instance_id: Id('TTS worker that took the room'),
    target_room: Id('room it now speaks in'),
    worker_subject: Type.String({ pattern: '^agent\\.tts\\.worker\\.[A-Za-z0-9_-]+\\.request$', description: 'the worker subject of the worker that took it: later requests for the room go there' }),
  },
  { $id: 'agent.tts.request.reply', description: 'Reply to an agent.tts.request sent as a NATS request: which worker holds the room.' },
);

const workerErrorFields = <T extends string>(errorTypes: readonly T[]) => ({
  timestamp: Timestamp,
  trace_id: TraceId,
  error_type: Type.Union(errorTypes.map((t) => Type.Literal(t))),
  error_message: Type.String({ maxLength: 4096 }),
  request_id: Type.Optional(Id('request that failed')),
  session_id: Type.Optional(Id('session id')),
  instance_id: Type.Optional(Id('worker instance')),
});

/** What went wrong in the voice worker. */
export const VoiceErrorTypes = [
  'livekit_join_failed', // the listener could not join the user's room
  'stt_failed', // transcription threw
  'brain_timeout', // no brain answer in VOICE_BRAIN_TIMEOUT_MS; the fallback was spoken
  'no_tts_worker', // no TTS worker took the room's request
  'tts_request_failed', // a TTS request failed otherwise
  'all_workers_busy', // every voice (or TTS) worker is at its maximum: the user heard the busy notice
] as const;

export const VoiceErrorSchema = Type.Object(
  { ...workerErrorFields(VoiceErrorTypes), room_name: Type.Optional(Id('room')) },
  { $id: 'agent.voice.error', description: 'A failure in the voice worker (webhooks, audio, STT, turn timeouts).' },
);

/** Why a TTS request was not spoken. */
export const TtsErrorTypes = [
  'unknown_voice', // voice_id is not loaded by the worker
  'text_too_long', // over TTS_MAX_TEXT_CHARS
  'nothing_to_say', // only punctuation or symbols
  'room_not_found', // no such LiveKit room (the agent never creates rooms)
  'livekit_error', // joining or publishing in the room failed
  'synthesis_failed', // the engine threw
] as const;

export const TtsErrorSchema = Type.Object(
  { ...workerErrorFields(TtsErrorTypes), target_room: Type.Optional(Id('room')) },
  { $id: 'agent.tts.error', description: 'A TTS request could not be spoken.' },
);

export const TtsNoticeSchema = Type.Object(TtsRequestSchema.properties, {
  $id: 'agent.tts.notice',
  description: 'Say a short notice into a room once (e.g. "all our agents are busy"), even when every TTS worker is at its maximum; the worker leaves the room after unless it serves it.',
});

export const SessionAcceptedSchema = Type.Object(
  {
    timestamp: Timestamp,
    trace_id: TraceId,
    instance_id: Id('voice worker that took the session'),
    room_name: Id('room'),
    track_sid: Id('track it listens to'),
    session_id: Id('the session it started'),
  },
  { $id: 'agent.voice.track.published.reply', description: 'Reply to an agent.voice.track.published sent as a NATS request: which voice worker took the session.' },
);

// ---------------------------------------------------------------- system
export const HealthStatuses = ['starting', 'healthy', 'degraded', 'stopping'] as const;

export const BusMetricsSchema = Type.Object({
  hop_p50_ms: NonNegative('payload timestamp → handler start, median'),
  hop_p99_ms: NonNegative('payload timestamp → handler start, 99th percentile'),
  received: NonNegativeInt('messages received'),
  handled: NonNegativeInt('messages handed to handlers'),
  invalid: NonNegativeInt('failed decoding or validation'),
  stale: NonNegativeInt('older than the TTL'),
  dead_lettered: NonNegativeInt('republished to dlq.>'),
  handler_errors: NonNegativeInt('handlers that threw'),
  published: NonNegativeInt('messages published'),
  dropped: NonNegativeInt('publishes lost while disconnected'),
});

export const HeartbeatSchema = Type.Object(
  {
    service: Id('service name, e.g. arc-sherlock-brain'),
    timestamp: Timestamp,
    status: Type.Union(HealthStatuses.map((s) => Type.Literal(s))),
    instance_id: Type.Optional(Id('process instance; several may run per service')),
    uptime_seconds: Type.Optional(NonNegative('process uptime')),
    interval_ms: Type.Optional(Type.Integer({ minimum: 1, description: 'heartbeat period; DOWN after two missed' })),
    metrics: Type.Object({
      active_sessions: NonNegativeInt('sessions / rooms / requests in progress'),
      cpu_percent: NonNegative('process CPU since the last beat, % of one core'),
      memory_mb: NonNegative('resident set size'),
      goroutines: Type.Optional(NonNegativeInt('Go services only')),
      event_loop_lag_ms: Type.Optional(NonNegative('Node event-loop delay p99 since the last beat')),
      bus: Type.Optional(BusMetricsSchema),
      models: Type.Optional(Type.Array(Type.String({ maxLength: ID_MAX }), { maxItems: 32 })),
      voice_to_voice_p50_ms: Type.Optional(NonNegative('voice worker: median end of speech → first agent audio')),
      load: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'how full the worker is (0–1): sessions or rooms held against its maximum, or inference-thread busy time, whichever is higher; at 1 it takes no new room' })),
      sink: Type.Optional(
        Type.Object(
          {
            forwarded: NonNegativeInt('events the external store has taken'),
            failed: NonNegativeInt('sends it refused or lost (each event is sent again)'),
            in_flight: NonNegativeInt('events sent and not yet stored'),
            destinations: NonNegativeInt('topics written to'),
          },
          { description: 'a sink worker (arc-pulsar-sink): audit events copied to an external store' },
        ),
      ),
    }),
  },
  { $id: 'system.health.heartbeat', description: 'Every worker, every HEARTBEAT_INTERVAL_MS (30 s by default).' },
);

export const Severities = ['warning', 'error', 'critical'] as const;

export const ServiceErrorSchema = Type.Object(
  {
    service: Id('service name'),
    timestamp: Timestamp,
    error_type: Type.String({ minLength: 1, maxLength: 128 }),
    error_message: Type.String({ maxLength: 4096 }),
    severity: Type.Union(Severities.map((s) => Type.Literal(s))),
    action_required: Type.String({ maxLength: 256, description: 'none, investigate, automatic_restart, …' }),
    instance_id: Type.Optional(Id('process instance')),
    trace_id: Type.Optional(TraceId),
    subject: Type.Optional(Type.String({ maxLength: ID_MAX, description: 'subject being handled when it failed' })),
  },
  { $id: 'system.service.error', description: 'A critical or notable error in any service.' },
);

/** Names of configuration variables a config change may set. */
export const CONFIG_KEY_PATTERN = '^[A-Z][A-Z0-9_]{0,63}$';

export const ConfigChangedSchema = Type.Object(
  {
    timestamp: Timestamp,
    trace_id: TraceId,
    change_id: Id('names the change in logs and in the system.service.error of a refusal'),
    scope: Type.Object(
      {
        service: Type.Optional(Id('only workers of this service (e.g. arc-sherlock-brain); absent: every service')),
        instance_id: Type.Optional(Id('only this worker instance')),
        tenant: Type.Optional(Id('only workers of this tenant; a worker without a tenant applies only changes without one')),
      },
      { description: 'which workers apply the change' },
    ),
    changes: Type.Record(Type.String({ pattern: CONFIG_KEY_PATTERN }), Type.Union([Type.String({ maxLength: 20_000 }), Type.Number(), Type.Boolean()]), {
      minProperties: 1,
      maxProperties: 50,
      description: 'configuration variables and their new values, as their environment variables take them (e.g. BRAIN_SYSTEM_PROMPT, VOICE_TURN_THRESHOLD)',
    }),
    reason: Type.Optional(Type.String({ maxLength: 1024, description: 'why, for the log' })),
  },
  {
    $id: 'system.config.changed',
    description:
      'Configuration changed without a restart: each worker in scope checks the new values as at start (schema and checks) and applies those it can change live, all or none; a refused change is a system.service.error (config_refused) naming the variable and value, and the old settings stay.',
  },
);

// ---------------------------------------------------------------- dead letters
export const DeadLetterSchema = Type.Object(
  {
    timestamp: Timestamp,
    trace_id: Type.Optional(TraceId),
    original_subject: Type.String({ maxLength: 1024 }),
    error_type: Type.String({ minLength: 1, maxLength: 64, description: 'invalid_payload, unknown_subject, handler_error' }),
    reason: Type.String({ maxLength: 4096, description: 'what was wrong, naming the field' }),
    service: Id('service that dead-lettered it'),
    instance_id: Id('process instance'),
    original_size_bytes: NonNegativeInt('size of the original payload'),
    original_payload_base64: Type.String({ description: 'the original bytes, truncated' }),
    truncated: Type.Boolean(),
  },
  { $id: 'dlq', description: 'dlq.<original subject>.<error_type>: a message that failed validation or processing.' },
);

/** Schemas of replies, for subjects that are sent as NATS requests. */
export const ReplySchemas = {
  'agent.tts.request': TtsAcceptedSchema,
  'agent.voice.track.published': SessionAcceptedSchema,
} satisfies Record<RequestSubject, TSchema>;

export const SubjectSchemas = {
  'agent.voice.track.published': TrackPublishedSchema,
  'agent.voice.track.unpublished': TrackUnpublishedSchema,
  'agent.voice.session.started': SessionStartedSchema,
  'agent.voice.session.ended': SessionEndedSchema,
  'agent.voice.error': VoiceErrorSchema,
  'agent.voice.transcript.interim': TranscriptInterimSchema,
  'agent.brain.request': BrainRequestSchema,
  'agent.brain.partial': BrainPartialSchema,
  'agent.brain.response': BrainResponseSchema,
  'agent.brain.error': BrainErrorSchema,
  'agent.brain.cancel': BrainCancelSchema,
  'agent.tts.request': TtsRequestSchema,
  'agent.tts.completed': TtsCompletedSchema,
  'agent.tts.cancel': TtsCancelSchema,
  'agent.tts.error': TtsErrorSchema,
  'agent.tts.notice': TtsNoticeSchema,
  'system.health.heartbeat': HeartbeatSchema,
  'system.service.error': ServiceErrorSchema,
  'system.config.changed': ConfigChangedSchema,
} satisfies Record<string, TSchema>;

export type TrackPublished = Static<typeof TrackPublishedSchema>;
export type TrackUnpublished = Static<typeof TrackUnpublishedSchema>;
export type SessionStarted = Static<typeof SessionStartedSchema>;
export type SessionEnded = Static<typeof SessionEndedSchema>;
export type VoiceError = Static<typeof VoiceErrorSchema>;
export type TranscriptInterim = Static<typeof TranscriptInterimSchema>;
export type PreviousTurn = Static<typeof PreviousTurnSchema>;
export type BrainRequest = Static<typeof BrainRequestSchema>;
export type BrainPartial = Static<typeof BrainPartialSchema>;
export type BrainResponse = Static<typeof BrainResponseSchema>;
export type BrainErrorType = (typeof BrainErrorTypes)[number];
export type BrainError = Static<typeof BrainErrorSchema>;
export type BrainCancel = Static<typeof BrainCancelSchema>;
export type TtsRequest = Static<typeof TtsRequestSchema>;
export type TtsCompleted = Static<typeof TtsCompletedSchema>;
export type TtsCancel = Static<typeof TtsCancelSchema>;
export type TtsError = Static<typeof TtsErrorSchema>;
export type TtsErrorType = (typeof TtsErrorTypes)[number];
export type VoiceErrorType = (typeof VoiceErrorTypes)[number];
export type TtsAccepted = Static<typeof TtsAcceptedSchema>;
export type TtsNotice = Static<typeof TtsNoticeSchema>;
export type SessionAccepted = Static<typeof SessionAcceptedSchema>;
export type BusMetrics = Static<typeof BusMetricsSchema>;
export type Heartbeat = Static<typeof HeartbeatSchema>;
export type HealthStatus = (typeof HealthStatuses)[number];
export type ServiceError = Static<typeof ServiceErrorSchema>;
export type ConfigChanged = Static<typeof ConfigChangedSchema>;
export type Severity = (typeof Severities)[number];
export type DeadLetter = Static<typeof DeadLetterSchema>;
