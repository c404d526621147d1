import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNatsCluster, type NatsCluster, type NatsNodePorts } from '@arc/devstack';

/**
 * A real `size`-node nats-server cluster on free loopback ports (full mesh of routes), with
 * clustered JetStream in a temporary directory removed on stop, for one test file.
 */
export async function startTestNatsCluster(size = 3): Promise<NatsCluster> {
  // A free port can be taken (by another process, or as a connection's local port) between the
  // check and the node's bind: the node then exits at once, and the cluster starts on other ports.
  for (let attempt = 1; ; attempt++) {
    const jetstreamDir = mkdtempSync(join(tmpdir(), 'arc-nats-cluster-'));
    try {
      return withCleanup(await startNatsCluster(await clusterPorts(size), { name: 'arc-test', jetstreamDir }), jetstreamDir);
    } catch (error) {
      rmSync(jetstreamDir, { recursive: true, force: true });
      if (attempt >= 4 || !/address already in use/.test(String(error))) throw error;
    }
  }
}

/** `size` nodes' client, route and monitor ports, all different */
async function clusterPorts(size: number): Promise<NatsNodePorts[]> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (taken.has(port)) continue;
      taken.add(port);
      return port;
    }
  };
  const ports: NatsNodePorts[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await next(), route: await next(), monitor: await next() });
  return ports;
}

function withCleanup(cluster: NatsCluster, jetstreamDir: string): NatsCluster {
  return {
    ...cluster,
    nodeOf: (name) => cluster.nodeOf(name),
    async stop() {
      await cluster.stop();
      rmSync(jetstreamDir, { recursive: true, force: true });
    },
  };
}
