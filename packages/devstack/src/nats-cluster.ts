/**
 * A nats-server cluster on loopback: each node has a client port, a route port (every node
 * solicits routes to all the others: a full mesh) and a monitoring port. `arc up --nats-cluster N`
 * and the test kit run it. Clients are given every node's URL; nodes tell them of the others too.
 */
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { startProcess, waitFor, type ManagedProcess } from './process.js';

export interface NatsNodePorts {
  client: number;
  route: number;
  monitor: number;
  /** the address the node listens on (default 127.0.0.1), e.g. its host's address in a network namespace */
  host?: string;
}

export interface NatsClusterOptions {
  /** the cluster's name, shared by its nodes */
  name?: string;
  /** JetStream on every node, storing under <jetstreamDir>/<node name> */
  jetstreamDir?: string;
  /** a command that runs the node somewhere else, e.g. `['ip', 'netns', 'exec', '<ns>']` (by node index) */
  launcher?: (index: number) => readonly string[];
}

export interface NatsNode {
  readonly name: string;
  /** nats://127.0.0.1:<client port> */
  readonly url: string;
  readonly ports: NatsNodePorts;
  readonly running: boolean;
  /** the node's process while it runs */
  readonly process: ManagedProcess | undefined;
  /** SIGKILL: the node vanishes as a crashed host would, without telling its clients */
  kill(): Promise<void>;
  /** SIGTERM (lame duck), then SIGKILL after the grace */
  stop(graceMs?: number): Promise<void>;
  /** start it again on its ports */
  start(): Promise<void>;
  /** routes to other nodes it has now (from /routez) */
  routes(): Promise<number>;
  /** connection names of the clients connected to it now (from /connz) */
  clientNames(): Promise<string[]>;
}

export interface NatsCluster {
  /** every node's client URL, comma-separated: NATS_URL for the workers */
  readonly url: string;
  readonly nodes: readonly NatsNode[];
  /** the node a client (by its connection name: a worker's service or instance id) is connected to now */
  nodeOf(connectionName: string): Promise<NatsNode | undefined>;
  stop(): Promise<void>;
}

const hostOf = (ports: NatsNodePorts) => ports.host ?? '127.0.0.1';

async function monitor<T>(ports: NatsNodePorts, path: string): Promise<T | undefined> {
  const response = await fetch(`http://${hostOf(ports)}:${ports.monitor}${path}`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  return response?.ok ? ((await response.json()) as T) : undefined;
}

/** Starts every node and resolves once each has routes to all the others. */
export async function startNatsCluster(allPorts: readonly NatsNodePorts[], options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const binary = findBinary('nats-server');
  const clusterName = options.name ?? 'arc';
  const nodes = allPorts.map((ports, index): NatsNode => {
    const name = `${clusterName}-nats-${index + 1}`;
    const host = hostOf(ports);
    const routes = allPorts.filter((_, other) => other !== index).map((p) => `nats://${hostOf(p)}:${p.route}`);
    const args = ['-a', host, '-p', String(ports.client), '-m', String(ports.monitor), '-n', name];
    args.push('--cluster_name', clusterName, '--cluster', `nats://${host}:${ports.route}`, '--routes', routes.join(','));
    if (options.jetstreamDir) args.push('-js', '-sd', join(options.jetstreamDir, name));
    let child: ManagedProcess | undefined;
    const node: NatsNode = {
      name,
      url: `nats://${host}:${ports.client}`,
      ports,
      get running() {
        return child !== undefined && child.child.exitCode === null && child.child.signalCode === null;
      },
      get process() {
        return child;
      },
      async start() {
        const [command, ...rest] = [...(options.launcher?.(index) ?? []), binary, ...args];
        child = startProcess(command!, rest);
        await child.waitForOutput(/Server is ready/, 10_000);
      },
      async kill() {
        if (!child) return;
        child.child.kill('SIGKILL');
        await child.stop(1_000);
      },
      async stop(graceMs = 2_000) {
        await child?.stop(graceMs);
      },
      async routes() {
        return (await monitor<{ num_routes: number }>(ports, '/routez'))?.num_routes ?? 0;
      },
      async clientNames() {
        const connz = await monitor<{ connections?: { name?: string }[] }>(ports, '/connz?limit=1024');
        return (connz?.connections ?? []).map((c) => c.name ?? '');
      },
    };
    return node;
  });
  const started = await Promise.allSettled(nodes.map((node) => node.start()));
  const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failed.reason;
  }
  const size = nodes.length;
  await waitFor(async () => (await Promise.all(nodes.map((node) => node.routes()))).every((routes) => routes >= size - 1), 15_000, `a ${size}-node NATS cluster with all its routes`);
  if (options.jetstreamDir) {
    // Clustered JetStream answers only once its nodes have elected a meta leader.
    const leaders = () => Promise.all(allPorts.map(async (ports) => (await monitor<{ meta_cluster?: { leader?: string } }>(ports, '/jsz'))?.meta_cluster?.leader));
    await waitFor(async () => (await leaders()).every(Boolean), 30_000, `JetStream of the ${size}-node NATS cluster with a meta leader`);
  }
  return {
    url: nodes.map((node) => node.url).join(','),
    nodes,
    async nodeOf(connectionName) {
      for (const node of nodes) if (node.running && (await node.clientNames()).includes(connectionName)) return node;
      return undefined;
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
