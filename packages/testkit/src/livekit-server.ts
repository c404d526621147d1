import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';
import { findBinary, freePort, liveKitConfigYaml, startProcess, type LiveKitClusterOptions } from '@arc/devstack';

export interface LiveKitServerHandle {
  /** ws://127.0.0.1:<port> for participants */
  readonly url: string;
  /** http://127.0.0.1:<port> for the server API */
  readonly httpUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s */
  stop(): Promise<void>;
  /** SIGKILL: the node vanishes as a crashed host would */
  kill(): Promise<void>;
}

export interface LiveKitServerOptions {
  /** where LiveKit posts webhooks (signed with the API key) */
  webhookUrls?: string[];
  /** one node of several sharing a Redis (see startLiveKitCluster) */
  cluster?: LiveKitClusterOptions;
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
  writeFileSync(configPath, liveKitConfigYaml({ port, tcpPort, udpPort, apiKey, apiSecret, ...(options.webhookUrls ? { webhookUrls: options.webhookUrls } : {}), ...(options.cluster ? { cluster: options.cluster } : {}) }));
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
    async kill() {
      server.child.kill('SIGKILL');
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `nodes` real livekit-server nodes sharing one real redis-server, all on loopback, each in its
 * own region (`region-1`, `region-2`, …): a room opened through a node is placed on that node.
 * Every node posts webhooks to `webhookUrls`.
 */
export async function startLiveKitCluster(nodes: number, options: Omit<LiveKitServerOptions, 'cluster'> = {}): Promise<LiveKitCluster> {
  const redis = await startRedisServer();
  const regions = Array.from({ length: nodes }, (_, i) => `region-${i + 1}`);
  const started: LiveKitServerHandle[] = [];
  try {
    for (const region of regions) started.push(await startLiveKitServer({ ...options, cluster: { redisAddress: redis.address, region, regions } }));
  } catch (error) {
    await Promise.all(started.map((node) => node.stop()));
    await redis.stop();
    throw error;
  }
  return {
    nodes: started,
    redis,
    async stop() {
      await Promise.all(started.map((node) => node.stop()));
      await redis.stop();
    },
  };
}

export interface LiveKitCluster {
  readonly nodes: readonly LiveKitServerHandle[];
  readonly redis: RedisServerHandle;
  stop(): Promise<void>;
}
