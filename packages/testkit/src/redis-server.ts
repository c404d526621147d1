import { findBinary, freePort, startProcess } from '@arc/devstack';

export interface RedisServerHandle {
  /** host:port, as livekit-server's `redis.address` wants it */
  readonly address: string;
  output(): string;
  stop(): Promise<void>;
}

/** A real redis-server (Debian's) on a free loopback port, in memory only (no snapshots, no AOF). */
export async function startRedisServer(): Promise<RedisServerHandle> {
  const port = await freePort();
  const server = startProcess(findBinary('redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  try {
    await server.waitForOutput(/Ready to accept connections/, 10_000);
  } catch (error) {
    await server.stop(1_000);
    throw error;
  }
  return {
    address: `127.0.0.1:${port}`,
    output: () => server.output(),
    async stop() {
      await server.stop(3_000);
    },
  };
}
