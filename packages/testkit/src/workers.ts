import { join } from 'node:path';
import { REPO_ROOT, startProcess, type ManagedProcess } from '@arc/devstack';
import type { LiveKitServerHandle } from './livekit-server.js';
import type { NatsServerHandle } from './nats-server.js';

export interface TestServers {
  /** a nats-server, or a cluster (its url lists every node) */
  nats: Pick<NatsServerHandle, 'url'>;
  livekit?: LiveKitServerHandle;
}

/** The environment of a worker connected to these servers (JSON logs, 1 s heartbeats), plus `extra`. */
export function workerEnv(servers: TestServers, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NATS_URL: servers.nats.url,
    ...(servers.livekit
      ? { LIVEKIT_URL: servers.livekit.url, LIVEKIT_API_KEY: servers.livekit.apiKey, LIVEKIT_API_SECRET: servers.livekit.apiSecret }
      : {}),
    LOG_FORMAT: 'json',
    HEARTBEAT_INTERVAL_MS: '1000',
    ...extra,
  };
}

/** Starts a built worker (services/<name>/dist/main.js) as its own process. */
export function startWorkerProcess(name: 'brain' | 'tts' | 'voice' | 'pulsar-sink', servers: TestServers, extra: Record<string, string> = {}): ManagedProcess {
  return startProcess(process.execPath, [join(REPO_ROOT, 'services', name, 'dist', 'main.js')], { env: workerEnv(servers, extra) });
}

/** The line each worker prints once it serves. */
const READY_LINES: Record<'brain' | 'tts' | 'voice', RegExp> = { brain: /brain ready/, tts: /TTS worker ready/, voice: /voice worker ready/ };

/** Resolves once the worker process (started with startWorkerProcess) says it is ready. */
export function waitUntilReady(name: keyof typeof READY_LINES, worker: ManagedProcess, timeoutMs = 60_000): Promise<string> {
  return worker.waitForOutput(READY_LINES[name], timeoutMs);
}
