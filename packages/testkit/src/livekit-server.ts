import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, liveKitConfigYaml, startProcess } from '@arc/devstack';

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
  // A free port can be taken by another process between the check and livekit's bind (test files
  // run side by side): livekit then exits at once, and it is started again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePorts(options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= 4) throw error;
    }
  }
}

class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
}

async function startOnFreePorts(options: LiveKitServerOptions): Promise<LiveKitServerHandle> {
  const binary = findBinary('livekit-server');
  const [port, tcpPort, udpPort] = [await freePort(), await freePort(), await freePort()];
  const apiKey = 'devkey';
  const apiSecret = 'secret-secret-secret-secret-secret-32';
  const dir = mkdtempSync(join(tmpdir(), 'arc-livekit-'));
  const configPath = join(dir, 'livekit.yaml');
  writeFileSync(configPath, liveKitConfigYaml({ port, tcpPort, udpPort, apiKey, apiSecret, ...(options.webhookUrls ? { webhookUrls: options.webhookUrls } : {}) }));
  const server = startProcess(binary, ['--config', configPath]);
  const httpUrl = `http://127.0.0.1:${port}`;
  const exited = () => server.child.exitCode !== null || server.child.signalCode !== null;
  const deadline = Date.now() + 20_000;
  while (!((await fetch(httpUrl).catch(() => undefined))?.ok ?? false)) {
    const failure = exited()
      ? /address already in use/.test(server.output())
        ? new PortTakenError(`livekit-server: a port was taken (${port}/${tcpPort}/${udpPort})`)
        : new Error(`livekit-server exited\n${server.output().slice(-3000)}`)
      : Date.now() > deadline
        ? new Error(`timed out after 20000 ms waiting for livekit-server on port ${port}\n${server.output().slice(-3000)}`)
        : undefined;
    if (failure) {
      await server.stop(1_000);
      rmSync(dir, { recursive: true, force: true });
      throw failure;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
