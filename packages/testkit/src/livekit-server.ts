import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, startProcess, waitFor } from './process.js';

export interface LiveKitServerHandle {
  /** ws://127.0.0.1:<port> for participants */
  readonly url: string;
  /** http://127.0.0.1:<port> for the server API */
  readonly httpUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  output(): string;
  stop(): Promise<void>;
}

export interface LiveKitServerOptions {
  /** where LiveKit posts webhooks (signed with the API key) */
  webhookUrls?: string[];
}

/** A real livekit-server (Go-built, dev keys) on free loopback ports. */
export async function startLiveKitServer(options: LiveKitServerOptions = {}): Promise<LiveKitServerHandle> {
  const binary = findBinary('livekit-server');
  const [port, tcpPort, udpPort] = [await freePort(), await freePort(), await freePort()];
  const apiKey = 'devkey';
  const apiSecret = 'secret-secret-secret-secret-secret-32';
  const dir = mkdtempSync(join(tmpdir(), 'arc-livekit-'));
  const configPath = join(dir, 'livekit.yaml');
  const lines = [
    `port: ${port}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    `  tcp_port: ${tcpPort}`,
    `  udp_port: ${udpPort}`,
    '  use_external_ip: false',
    '  node_ip: 127.0.0.1',
    'keys:',
    `  ${apiKey}: ${apiSecret}`,
    'logging:',
    '  level: info',
  ];
  if (options.webhookUrls?.length) {
    lines.push('webhook:', `  api_key: ${apiKey}`, '  urls:', ...options.webhookUrls.map((url) => `    - ${url}`));
  }
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  const server = startProcess(binary, ['--config', configPath]);
  const httpUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(httpUrl).catch(() => undefined))?.ok ?? false,
    20_000,
    `livekit-server on port ${port}`,
    50,
  ).catch((error: Error) => {
    void server.stop(1_000);
    throw new Error(`${error.message}\n${server.output().slice(-3000)}`);
  });
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl,
    apiKey,
    apiSecret,
    output: () => server.output(),
    async stop() {
      await server.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
