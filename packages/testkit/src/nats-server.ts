import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { findBinary, freePort, startProcess, waitFor, type ManagedProcess } from '@arc/devstack';

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  /** kill the server (the port stays reserved for restart) */
  stop(): Promise<void>;
  /** start it again on the same port (to test reconnects) */
  restart(): Promise<void>;
  /** SIGHUP: the server reads its configuration file again (users added by `arc tenant add`) */
  reload(): void;
}

export interface NatsServerOptions {
  /** bytes; nats-server default is 1 MB */
  maxPayload?: number;
  /** run JetStream (file storage in a fresh temporary directory), for the audit stream */
  jetstream?: boolean;
  /** a configuration file to include, e.g. the auth.conf `arc tenant add` writes (nats-server includes relative paths only) */
  include?: string;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A real nats-server on a free loopback port, for one test file. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = findBinary('nats-server');
  const port = await freePort();
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (options.maxPayload || options.include) {
    // nats-server has no command-line flag for max_payload; it goes in a config file.
    const config = join(mkdtempSync(join(tmpdir(), 'arc-nats-')), 'nats.conf');
    const lines = [options.maxPayload ? `max_payload: ${options.maxPayload}` : '', options.include ? `include ${JSON.stringify(relative(dirname(config), options.include))}` : ''];
    writeFileSync(config, `${lines.filter(Boolean).join('\n')}\n`);
    args.push('-c', config);
  }
  if (options.jetstream) args.push('-js', '-sd', mkdtempSync(join(tmpdir(), 'arc-jetstream-')));
  let server: ManagedProcess | undefined;
  const launch = async () => {
    server = startProcess(binary, args);
    const running = server;
    await waitFor(
      () => {
        if (running.child.exitCode !== null) throw new Error(`nats-server exited: ${running.output().slice(-2000)}`);
        return portOpen(port);
      },
      10_000,
      `nats-server on port ${port}`,
    );
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await server?.stop(2_000);
    },
    async restart() {
      await server?.stop(2_000);
      await launch();
    },
    reload() {
      server?.child.kill('SIGHUP');
    },
  };
}
