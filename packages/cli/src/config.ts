/**
 * What the arc command reads from the environment, validated like every worker's variables (a bad
 * value exits with code 2 naming it). Unset, it talks to the loopback stack of `npm start`.
 */
import { Type, loadConfig, type CommonConfig, type Static } from '@arc/runtime';
import { SpeechConfig, speechSettings, type SpeechSettings } from '@arc/speech';

/** Ports and keys of the loopback stack `arc up` (npm start) runs. */
export const StackDefaults = {
  natsPort: 4222,
  /** `arc up --nats-cluster N`: node i has clients on natsPort+i, routes on natsRoutePort+i, monitoring on natsMonitorPort+i */
  natsRoutePort: 6222,
  natsMonitorPort: 8222,
  livekitPort: 7880,
  livekitTcpPort: 7881,
  livekitUdpPort: 7882,
  playgroundPort: 7890,
  /** first worker's Prometheus /metrics port; the others follow (9464 is the OpenTelemetry Prometheus default) */
  metricsPort: 9464,
  jaegerOtlpPort: 4318,
  jaegerUiPort: 16686,
  jaegerQueryGrpcPort: 16685,
  voicePort: 8088,
  livekitApiKey: 'devkey',
  // livekit-server wants secrets of 32+ characters; this one is for loopback development only.
  livekitApiSecret: 'arc-local-development-secret-0123456789',
};

export const CliConfig = Type.Composite([
  SpeechConfig,
  Type.Object({
    LIVEKIT_URL: Type.String({ pattern: '^wss?://', default: `ws://127.0.0.1:${StackDefaults.livekitPort}`, description: 'LiveKit server of `arc talk`' }),
    LIVEKIT_API_KEY: Type.String({ minLength: 1, default: StackDefaults.livekitApiKey, description: 'LiveKit API key' }),
    LIVEKIT_API_SECRET: Type.String({ minLength: 1, default: StackDefaults.livekitApiSecret, description: 'LiveKit API secret' }),
  }),
]);
export type CliConfig = CommonConfig & Static<typeof CliConfig>;

let loaded: CliConfig | undefined;

/** The environment, read and checked once (throws ConfigError). */
export function cliConfig(): CliConfig {
  return (loaded ??= loadConfig(CliConfig));
}

export function cliSpeechSettings(): SpeechSettings {
  return speechSettings(cliConfig());
}
