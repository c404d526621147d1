import { Type, type Static } from '@arc/runtime';

/** Environment variables of the Pulsar sink (the common ones are added by the runtime). */
export const PulsarSinkConfig = Type.Object({
  PULSAR_WS_URL: Type.String({ pattern: '^wss?://', description: "Pulsar broker's web service with its WebSocket API on (webSocketServiceEnabled=true), e.g. ws://127.0.0.1:8080" }),
  PULSAR_TOPIC_PREFIX: Type.String({
    pattern: '^(persistent|non-persistent)://[^/]+/[^/]+/$',
    default: 'persistent://public/default/',
    description: 'each event goes to the topic <prefix><subject>, e.g. persistent://public/default/agent.brain.request',
  }),
  PULSAR_SINK_CONSUMER: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'arc-pulsar-sink', description: 'durable consumer on ARC_AUDIT that remembers where the sink left off' }),
  PULSAR_SINK_MAX_IN_FLIGHT: Type.Integer({ minimum: 1, maximum: 100_000, default: 1_000, description: 'events sent to Pulsar and not yet stored there, at most' }),
});
export type PulsarSinkConfig = Static<typeof PulsarSinkConfig>;
