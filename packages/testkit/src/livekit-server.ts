import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, liveKitConfigYaml, startProcess, waitFor } from '@arc/devstack';

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
  writeFileSync(configPath, liveKitConfigYaml({ port, tcpPort, udpPort, apiKey, apiSecret, ...(options.webhookUrls ? { webhookUrls: options.webhookUrls } : {}) }));
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
