import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, type Bus } from '@arc/bus';
import { findBinary, freePort, startProcess } from '@arc/devstack';
import {
  collect,
  startNatsServer,
  waitFor,
  type Collector,
  type ManagedProcess,
  type NatsServerHandle,
  type ScriptedOpenAIServer,
} from '@arc/testkit';
import { jsonLines, startScriptedBrain } from './helpers.js';

let nats: NatsServerHandle;
let model: ScriptedOpenAIServer;
let brain: ManagedProcess;
let prometheus: ManagedProcess | undefined;
let user: Bus;
let answers: Collector;
before(async () => {
  nats = await startNatsServer();
  ({ brain, model } = await startScriptedBrain(nats, { METRICS_PORT: '0' }));
  user = await connectBus({ servers: nats.url, service: 'arc-metrics-test' });
  answers = await collect(nats.url, 'agent.brain.response');
});
after(async () => {
  await user?.close(1000);
  await answers?.close();
  await prometheus?.stop(3000);
  await brain?.stop(5000);
  await model?.close();
  await nats?.stop();
});

const metricsUrl = (): string => {
  const line = jsonLines(brain.output()).find((l) => l.msg === 'serving Prometheus metrics');
  assert.ok(line, 'the brain logs where /metrics is');
  return line.url as string;
};

test('a worker serves /metrics, and a real Prometheus scrapes it and answers a query', async () => {
  user.publish('agent.brain.request', { request_id: 'metrics-1', session_id: 's-metrics', user_input: 'What is the capital of France?' });
  await waitFor(() => answers.messages.length === 1, 15_000, 'the answer');

  const url = metricsUrl();
  const text = await (await fetch(url)).text();
  // Prometheus text format: name{labels} value, labels in any order.
  const sample = (name: string, labels: Record<string, string>): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const shown = text.split('\n').filter((l) => /^arc_(stage|bus)/.test(l)).join('\n');
  assert.equal(sample('arc_stage_duration_ms_count', { stage: 'llm', service: 'arc-sherlock-brain' }), 1, shown);
  assert.equal(sample('arc_stage_duration_ms_count', { stage: 'brain_total' }), 1, shown);
  assert.equal(sample('arc_bus_messages_total', { subject: 'agent.brain.request', outcome: 'handled' }), 1, shown);
  assert.ok((sample('arc_bus_hop_latency_ms_count', {}) ?? 0) >= 1, shown);
  assert.notEqual(sample('arc_event_loop_lag_ms', {}), undefined, 'heartbeat figures are gauges');
  assert.equal(sample('arc_bus_dead_lettered', {}), 0);

  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'arc-prometheus-'));
  const target = new URL(url);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: arc', '    static_configs:', `      - targets: ['${target.host}']`, ''].join('\n'),
  );
  prometheus = startProcess(findBinary('prometheus'), [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const query = encodeURIComponent('sum by (service) (arc_bus_messages_total{subject="agent.brain.request",outcome="handled"})');
  let result: { metric: { service?: string }; value: [number, string] }[] = [];
  await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${query}`).catch(() => undefined);
      if (!response?.ok) return false;
      result = ((await response.json()) as { data: { result: typeof result } }).data.result;
      return result.length > 0;
    },
    30_000,
    `Prometheus scraped ${url}: ${prometheus.output().slice(-500)}`,
    250,
  );
  assert.equal(result[0]!.metric.service, 'arc-sherlock-brain');
  assert.equal(Number(result[0]!.value[1]), 1, 'one request handled');
});
