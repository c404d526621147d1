import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, jaegerConfigYaml, startProcess, waitFor, type ManagedProcess } from '@arc/devstack';

export interface JaegerHandle {
  /** OTLP/HTTP endpoint for OTEL_EXPORTER_OTLP_ENDPOINT */
  readonly otlpUrl: string;
  /** the query API (…/api/traces/<id>) */
  readonly queryUrl: string;
  stop(): Promise<void>;
}

/** A real Jaeger (scripts/install-jaeger.sh builds it) on free loopback ports, for one test file. */
export async function startJaeger(): Promise<JaegerHandle> {
  const binary = findBinary('jaeger');
  const ports = { otlpHttp: await freePort(), query: await freePort(), queryGrpc: await freePort() };
  const config = join(mkdtempSync(join(tmpdir(), 'arc-jaeger-')), 'jaeger.yaml');
  writeFileSync(config, jaegerConfigYaml(ports));
  const jaeger: ManagedProcess = startProcess(binary, ['--config', config]);
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  await waitFor(
    async () => {
      if (jaeger.child.exitCode !== null) throw new Error(`jaeger exited: ${jaeger.output().slice(-2000)}`);
      return (await fetch(`${queryUrl}/api/services`).catch(() => undefined))?.ok ?? false;
    },
    20_000,
    'jaeger query API',
  );
  return { otlpUrl: `http://127.0.0.1:${ports.otlpHttp}`, queryUrl, stop: async () => void (await jaeger.stop(3000)) };
}
