import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { connectBus } from '@arc/bus';
import { REPO_ROOT, findBinary, jaegerConfigYaml, liveKitConfigYaml, startNatsCluster, startProcess, waitFor, type ManagedProcess } from '@arc/devstack';
import { StackDefaults } from '../config.js';
import { startPlayground, type Playground } from '../playground/server.js';

export const STACK_DIR = join(REPO_ROOT, '.arc');
const PID_FILE = join(STACK_DIR, 'stack.pid');


/** pid of a running `arc up`, if any. */
function runningStack(): number | undefined {
  if (!existsSync(PID_FILE)) return undefined;
  const pid = Number(readFileSync(PID_FILE, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Workers that copy ARC's events to a store outside the stack: they run only when pointed at one. */
const OPTIONAL_WORKERS: Record<string, string> = { 'pulsar-sink': 'PULSAR_WS_URL' };

/** Worker services present in this checkout (services/<name>/dist/main.js) that `env` asks for. */
function workerEntries(env: NodeJS.ProcessEnv): { name: string; main: string }[] {
  const servicesDir = join(REPO_ROOT, 'services');
  return readdirSync(servicesDir)
    .map((name) => ({ name, main: join(servicesDir, name, 'dist', 'main.js') }))
    .filter((entry) => existsSync(entry.main))
    .filter((entry) => {
      const needs = OPTIONAL_WORKERS[entry.name];
      if (!needs || env[needs]) return true;
      console.log(`${entry.name}: off (set ${needs} to run it)`);
      return false;
    });
}

function livekitConfig(): string {
  const d = StackDefaults;
  return liveKitConfigYaml({
    port: d.livekitPort,
    tcpPort: d.livekitTcpPort,
    udpPort: d.livekitUdpPort,
    apiKey: d.livekitApiKey,
    apiSecret: d.livekitApiSecret,
    logLevel: 'warn',
    // LiveKit tells the voice worker about tracks through signed webhooks.
    webhookUrls: [`http://127.0.0.1:${d.voicePort}/livekit/webhook`],
  });
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run the whole stack on loopback: nats-server, livekit-server (dev) and every built worker (npm start)')
    .option('--heartbeat-ms <ms>', 'worker heartbeat interval', (v) => Number.parseInt(v, 10), 5_000)
    .option('--tracing', 'also run Jaeger and send every worker\'s OpenTelemetry spans to it (UI on port 16686)')
    .option('--nats-cluster <nodes>', 'run NATS as a cluster of this many nodes (clients on 4222…, routes on 6222…, monitoring on 8222…); workers get every URL', (v) => Number.parseInt(v, 10), 1)
    .action(async (options: { heartbeatMs: number; tracing?: boolean; natsCluster: number }) => {
      const existing = runningStack();
      if (existing) {
        process.stderr.write(`ARC is already running (pid ${existing}); stop it with Ctrl-C in its terminal or \`kill ${existing}\`.\n`);
        process.exit(1);
      }
      mkdirSync(STACK_DIR, { recursive: true });
      writeFileSync(PID_FILE, String(process.pid));
      const d = StackDefaults;
      const children: { name: string; process: ManagedProcess }[] = [];
      let playground: Playground | undefined;
      let stopping = false;
      const stopAll = async (code: number) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write('\nstopping ARC…\n');
        await playground?.close().catch(() => {});
        // Workers first (they drain over NATS), then the servers.
        for (const child of [...children].reverse()) await child.process.stop(10_000);
        rmSync(PID_FILE, { force: true });
        process.exit(code);
      };
      process.once('SIGINT', () => void stopAll(0));
      process.once('SIGTERM', () => void stopAll(0));

      try {
        let natsUrl = `nats://127.0.0.1:${d.natsPort}`;
        if (!Number.isInteger(options.natsCluster) || options.natsCluster < 1 || options.natsCluster > 9) throw new Error(`--nats-cluster takes 1 to 9 nodes, not "${options.natsCluster}"`);
        if (options.natsCluster === 1) {
          const nats = startProcess(findBinary('nats-server'), ['-a', '127.0.0.1', '-p', String(d.natsPort), '-js', '-sd', join(STACK_DIR, 'jetstream')]);
          children.push({ name: 'nats-server', process: nats });
          await nats.waitForOutput(/Server is ready/, 10_000);
        } else {
          const ports = Array.from({ length: options.natsCluster }, (_, i) => ({ client: d.natsPort + i, route: d.natsRoutePort + i, monitor: d.natsMonitorPort + i }));
          const cluster = await startNatsCluster(ports, { jetstreamDir: join(STACK_DIR, 'jetstream-cluster') });
          for (const node of cluster.nodes) children.push({ name: node.name, process: node.process! });
          natsUrl = cluster.url;
        }

        const configPath = join(STACK_DIR, 'livekit.yaml');
        writeFileSync(configPath, livekitConfig());
        const livekit = startProcess(findBinary('livekit-server'), ['--dev', '--config', configPath]);
        children.push({ name: 'livekit-server', process: livekit });
        const livekitHttp = `http://127.0.0.1:${d.livekitPort}`;
        await waitFor(async () => (await fetch(livekitHttp).catch(() => undefined))?.ok, 20_000, 'livekit-server');

        // --tracing: Jaeger all-in-one on its usual ports; workers export OTLP/HTTP to it.
        const tracing: Record<string, string> = {};
        if (options.tracing) {
          const jaegerConfig = join(STACK_DIR, 'jaeger.yaml');
          writeFileSync(jaegerConfig, jaegerConfigYaml({ otlpHttp: d.jaegerOtlpPort, query: d.jaegerUiPort, queryGrpc: d.jaegerQueryGrpcPort }));
          const jaeger = startProcess(findBinary('jaeger'), ['--config', jaegerConfig]);
          children.push({ name: 'jaeger', process: jaeger });
          const jaegerUi = `http://127.0.0.1:${d.jaegerUiPort}`;
          await waitFor(async () => (await fetch(`${jaegerUi}/api/services`).catch(() => undefined))?.ok, 20_000, 'jaeger');
          tracing['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${d.jaegerOtlpPort}`;
        }
        const servers = children.length;

        const bus = await connectBus({ servers: natsUrl, service: 'arc-up', connectTimeoutMs: 5_000 });
        const seen = new Map<string, string>();
        bus.subscribe('system.health.heartbeat', (beat) => void seen.set(beat.service, beat.status), { deadLetter: false });
        await bus.flush();

        const env = {
          ...process.env,
          NATS_URL: natsUrl,
          LIVEKIT_URL: `ws://127.0.0.1:${d.livekitPort}`,
          LIVEKIT_API_KEY: d.livekitApiKey,
          LIVEKIT_API_SECRET: d.livekitApiSecret,
          HEARTBEAT_INTERVAL_MS: String(options.heartbeatMs),
          VOICE_HTTP_PORT: String(d.voicePort),
          LOG_FORMAT: 'json',
          ...(options.natsCluster > 1 && !process.env.ARC_AUDIT_REPLICAS ? { ARC_AUDIT_REPLICAS: String(Math.min(options.natsCluster, 3)) } : {}),
          ...tracing,
        };
        const workers = workerEntries(env);
        const metricsUrls: string[] = [];
        for (const [index, worker] of workers.entries()) {
          const metricsPort = d.metricsPort + index;
          metricsUrls.push(`${worker.name} http://127.0.0.1:${metricsPort}/metrics`);
          const child = startProcess(process.execPath, [worker.main], { env: { ...env, METRICS_PORT: String(metricsPort) } });
          children.push({ name: worker.name, process: child });
          child.child.stdout?.pipe(process.stdout);
          child.child.stderr?.pipe(process.stderr);
        }
        // A worker counts as up once its heartbeat is on the bus; one that exits is reported.
        const failed = new Set<string>();
        await waitFor(
          () => {
            for (const { name, process: child } of children.slice(servers)) {
              if (child.child.exitCode !== null && !failed.has(name)) {
                failed.add(name);
                process.stderr.write(`\n${name} exited with code ${child.child.exitCode}; see its log above\n`);
              }
            }
            return seen.size + failed.size >= workers.length;
          },
          120_000,
          'worker heartbeats',
          100,
        ).catch((error: Error) => process.stderr.write(`${error.message}\n`));

        playground = await startPlayground({
          port: d.playgroundPort,
          natsUrl,
          livekitUrl: env.LIVEKIT_URL,
          apiKey: d.livekitApiKey,
          apiSecret: d.livekitApiSecret,
        });
        const lines = [
          '',
          'ARC is running on loopback:',
          `  NATS          ${natsUrl}${options.natsCluster > 1 ? `  (a ${options.natsCluster}-node cluster; kill one: the workers move to another)` : ''}`,
          `  LiveKit       ws://127.0.0.1:${d.livekitPort}  (API key ${d.livekitApiKey}, secret ${d.livekitApiSecret})`,
          `  workers up    ${[...seen.keys()].join(', ') || '(none)'}${failed.size ? `   failed: ${[...failed].join(', ')}` : ''}`,
          '',
          `Playground (browser microphone): ${playground.url}`,
          `Prometheus metrics: ${metricsUrls.join(', ')}`,
          options.tracing ? `Traces (Jaeger UI): http://127.0.0.1:${d.jaegerUiPort}` : 'Traces: off (npm start -- --tracing runs Jaeger and sends spans to it)',
          '',
          'Talk to it from another terminal:',
          '  npx arc talk --room demo --say "what time is it"   # a real participant asks, hears, transcribes',
          '  npx arc monitor                                   # services, heartbeats, errors',
          `  npx arc pub agent.brain.request '{"request_id":"r1","session_id":"s1","user_input":"What time is it?"}'`,
          '  npx arc sub "agent.>"                             # watch the pipeline',
          '  npx arc audit --since 10m                         # what happened, kept by the audit stream',
          '',
          'Ctrl-C stops everything.',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        await bus.close(1_000);
        await new Promise(() => {}); // until a signal
      } catch (error) {
        process.stderr.write(`arc up failed: ${(error as Error).message}\n`);
        await stopAll(1);
      }
    });
}
