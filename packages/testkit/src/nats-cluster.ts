import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNatsCluster, type NatsCluster, type NatsNodePorts } from '@arc/devstack';

/**
 * A real `size`-node nats-server cluster on free loopback ports (full mesh of routes), with
 * clustered JetStream in a temporary directory removed on stop, for one test file.
 */
export async function startTestNatsCluster(size = 3): Promise<NatsCluster> {
  const ports: NatsNodePorts[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });
  const jetstreamDir = mkdtempSync(join(tmpdir(), 'arc-nats-cluster-'));
  const cluster = await startNatsCluster(ports, { name: 'arc-test', jetstreamDir });
  return {
    ...cluster,
    nodeOf: (name) => cluster.nodeOf(name),
    async stop() {
      await cluster.stop();
      rmSync(jetstreamDir, { recursive: true, force: true });
    },
  };
}
