import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePayload } from '@arc/contracts';
import { collect, silentLogger, startNatsServer } from '@arc/testkit';
import { connectBus } from '@arc/bus';
import { ConfigError, HeartbeatReporter, Type, defineWorker, loadConfig, startWorker } from './index.js';

test('config: defaults, coercion, and errors naming the variable', () => {
  const schema = Type.Object({ ROOMS: Type.Integer({ minimum: 1, default: 4 }), FLAG: Type.Boolean({ default: false }) });
  const config = loadConfig(schema, { HEARTBEAT_INTERVAL_MS: '500', FLAG: 'true' });
  assert.equal(config.HEARTBEAT_INTERVAL_MS, 500);
  assert.equal(config.NATS_URL, 'nats://127.0.0.1:4222');
  assert.equal(config.ROOMS, 4);
  assert.equal(config.FLAG, true);
  assert.throws(() => loadConfig(schema, { ROOMS: '0' }), (e: unknown) => e instanceof ConfigError && e.variable === 'ROOMS' && /ROOMS="0" must be >= 1/.test(e.message));
  assert.throws(() => loadConfig(schema, { NATS_URL: 'notaurl' }), (e: unknown) => e instanceof ConfigError && e.variable === 'NATS_URL');
  assert.throws(() => loadConfig(Type.Object({ KEY: Type.String() }), {}), (e: unknown) => e instanceof ConfigError && /KEY is required/.test(e.message));
  assert.equal(loadConfig(schema, { NATS_URL: 'nats://a:4222,nats://b:4223' }).NATS_URL, 'nats://a:4222,nats://b:4223');
});

test('worker lifecycle: heartbeats carry every field; shutdown sends "stopping" and runs stop()', async (t) => {
  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const beats = await collect(nats.url, 'system.health.heartbeat');
  t.after(() => beats.close());
  let stopped = false;
  const worker = defineWorker({
    service: 'arc-lifecycle-test',
    async start() {
      return {
        async stop() {
          stopped = true;
        },
        activeSessions: () => 3,
        metrics: () => ({ models: ['piper-en_US-joe-medium'] }),
      };
    },
  });
  const running = await startWorker(worker, { env: { NATS_URL: nats.url, HEARTBEAT_INTERVAL_MS: '200', INSTANCE_ID: 'life-1' }, logger: silentLogger });
  await beats.waitForCount(4, 5000); // starting, healthy, then periodic
  await running.shutdown('test');
  assert.equal(stopped, true);
  await beats.waitForCount(5, 5000);
  const all = beats.messages.map((m) => m.payload);
  for (const beat of all) assert.ok(validatePayload('system.health.heartbeat', beat).ok);
  assert.equal(all[0].status, 'starting');
  assert.equal(all.at(-1).status, 'stopping');
  const periodic = all.find((b) => b.status === 'healthy');
  assert.equal(periodic.service, 'arc-lifecycle-test');
  assert.equal(periodic.instance_id, 'life-1');
  assert.equal(periodic.metrics.active_sessions, 3);
  assert.deepEqual(periodic.metrics.models, ['piper-en_US-joe-medium']);
  for (const field of ['cpu_percent', 'memory_mb', 'event_loop_lag_ms']) assert.equal(typeof periodic.metrics[field], 'number', field);
  for (const field of ['hop_p50_ms', 'hop_p99_ms', 'received', 'invalid', 'stale', 'dead_lettered', 'dropped']) {
    assert.equal(typeof periodic.metrics.bus[field], 'number', field);
  }
  assert.ok(periodic.uptime_seconds >= 0);
  assert.equal(periodic.interval_ms, 200);
});

test('event-loop lag: an idle loop reads near 0 (not the 10 ms sampling interval); a loop blocked for 60 ms reads 50–60 ms', async (t) => {
  const nats = await startNatsServer();
  const bus = await connectBus({ servers: nats.url, service: 'arc-lag-test' });
  t.after(async () => {
    await bus.close();
    await nats.stop();
  });
  const reporter = new HeartbeatReporter({ service: 'arc-lag-test', bus, intervalMs: 1000, activeSessions: () => 0 });
  t.after(() => reporter.stop());
  reporter.build('healthy');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = reporter.build('healthy').metrics.event_loop_lag_ms ?? NaN;
  assert.ok(idle < 8, `idle lag ${idle} ms`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const until = performance.now() + 60;
  while (performance.now() < until); // the loop blocked
  await new Promise((resolve) => setTimeout(resolve, 100));
  const blocked = reporter.build('healthy').metrics.event_loop_lag_ms ?? NaN;
  assert.ok(blocked >= 45 && blocked < 120, `blocked lag ${blocked} ms`);
});

test('a worker whose start fails reports a critical system.service.error', async (t) => {
  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const errors = await collect(nats.url, 'system.service.error');
  t.after(() => errors.close());
  const broken = defineWorker({
    service: 'arc-broken-test',
    async start(): Promise<never> {
      throw new Error('model file missing');
    },
  });
  await assert.rejects(startWorker(broken, { env: { NATS_URL: nats.url }, logger: silentLogger }), /model file missing/);
  await errors.waitForCount(1, 5000);
  assert.equal(errors.messages[0]!.payload.severity, 'critical');
  assert.match(errors.messages[0]!.payload.error_message, /model file missing/);
});
