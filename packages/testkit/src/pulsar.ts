import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, findBinary, freePort, startProcess, type ManagedProcess } from '@arc/devstack';

/** Where scripts/install-pulsar.sh puts Pulsar's jars (git-ignored). */
export const PULSAR_LIB = join(REPO_ROOT, '.tools', 'pulsar', 'lib');

export interface PulsarHandle {
  /** binary protocol, pulsar://127.0.0.1:port */
  readonly serviceUrl: string;
  /** admin REST API, http://127.0.0.1:port */
  readonly webUrl: string;
  /** WebSocket API (producers, readers), ws://127.0.0.1:port */
  readonly wsUrl: string;
  stop(): Promise<void>;
}

/**
 * A real Apache Pulsar standalone (broker, BookKeeper and RocksDB metadata in one JVM) on free
 * loopback ports, with its WebSocket API on, for one test file. Its data lives in a temporary
 * directory removed at stop.
 */
export async function startPulsar(): Promise<PulsarHandle> {
  if (!existsSync(join(PULSAR_LIB))) throw new Error(`Pulsar is not installed at ${PULSAR_LIB}: run bash scripts/install-pulsar.sh`);
  const [brokerPort, webPort, bookiePort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'arc-pulsar-'));
  const config = join(dir, 'standalone.conf');
  writeFileSync(
    config,
    [
      'clusterName=standalone',
      'advertisedAddress=127.0.0.1',
      'bindAddress=127.0.0.1',
      `brokerServicePort=${brokerPort}`,
      `webServicePort=${webPort}`,
      'webSocketServiceEnabled=true',
      'managedLedgerDefaultEnsembleSize=1',
      'managedLedgerDefaultWriteQuorum=1',
      'managedLedgerDefaultAckQuorum=1',
      'functionsWorkerEnabled=false',
      'transactionCoordinatorEnabled=false',
      'brokerDeleteInactiveTopicsEnabled=false',
      // two cores: a small broker
      'numIOThreads=2',
      'numHttpServerThreads=4',
      '',
    ].join('\n'),
  );
  const java = findBinary('java');
  const args = ['-Xms128m', '-Xmx768m', '-XX:+UseSerialGC', '-cp', `${PULSAR_LIB}/*`, 'org.apache.pulsar.PulsarStandaloneStarter'];
  args.push('--config', config, '--no-stream-storage', '--no-functions-worker', '--bookkeeper-port', String(bookiePort));
  args.push('--bookkeeper-dir', join(dir, 'bookkeeper'), '--metadata-dir', join(dir, 'metadata'));
  const pulsar: ManagedProcess = startProcess(java, args);
  try {
    await pulsar.waitForOutput(/messaging service is ready/, 180_000);
  } catch (error) {
    await pulsar.stop(5_000);
    throw new Error(`Pulsar standalone did not start: ${(error as Error).message}\n${pulsar.output().slice(-3000)}`);
  }
  return {
    serviceUrl: `pulsar://127.0.0.1:${brokerPort}`,
    webUrl: `http://127.0.0.1:${webPort}`,
    wsUrl: `ws://127.0.0.1:${webPort}`,
    async stop() {
      await pulsar.stop(10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
