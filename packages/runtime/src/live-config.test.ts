import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import type { ConfigChanged } from '@arc/contracts';
import { applyConfigChange, inScope } from './live-config.js';
import { ConfigError, loadConfig } from './config.js';

const Schema = Type.Object({
  PROMPT: Type.String({ minLength: 1, default: 'Be brief.' }),
  THRESHOLD: Type.Number({ minimum: 0.05, maximum: 0.95, default: 0.5 }),
  PAUSE_MS: Type.Integer({ minimum: 0, default: 200 }),
  MAX_MS: Type.Integer({ minimum: 0, default: 1500 }),
  MODEL_FILE: Type.String({ default: 'model.onnx' }),
});
const options = {
  service: 'arc-test',
  instanceId: 'test-1',
  schema: Schema,
  live: ['PROMPT', 'THRESHOLD', 'PAUSE_MS', 'MAX_MS'],
  check: (config: { PAUSE_MS: number; MAX_MS: number }) => {
    if (config.PAUSE_MS >= config.MAX_MS) throw new ConfigError('PAUSE_MS', String(config.PAUSE_MS), `must be shorter than MAX_MS (${config.MAX_MS})`);
  },
};
const change = (changes: ConfigChanged['changes'], scope: ConfigChanged['scope'] = { service: 'arc-test' }): ConfigChanged => ({
  timestamp: new Date().toISOString(),
  trace_id: '0af7651916cd43dd8448eb211c80319c',
  change_id: 'c1',
  scope,
  changes,
});
const fresh = () => loadConfig(Schema, {});

test('a live change is checked as at start and applied; values are converted as environment variables are', () => {
  const config = fresh();
  const outcome = applyConfigChange(config, change({ PROMPT: 'Answer in one sentence.', THRESHOLD: '0.7' }), options);
  assert.deepEqual(outcome, { kind: 'applied', keys: ['PROMPT', 'THRESHOLD'] });
  assert.equal(config.PROMPT, 'Answer in one sentence.');
  assert.equal(config.THRESHOLD, 0.7);
  assert.deepEqual(applyConfigChange(config, change({ THRESHOLD: 0.7 }), options), { kind: 'unchanged' });
});

test('all or none: an invalid value, a failed check, a variable that needs a restart or is unknown refuses the whole change', () => {
  const config = fresh();
  const refused = (changes: ConfigChanged['changes']) => {
    const outcome = applyConfigChange(config, change(changes), options);
    assert.equal(outcome.kind, 'refused', JSON.stringify(changes));
    return outcome.kind === 'refused' ? outcome.error : undefined;
  };
  assert.match(refused({ PROMPT: 'New', THRESHOLD: 2 })!.message, /THRESHOLD="2"/);
  assert.match(refused({ PAUSE_MS: 1500 })!.message, /PAUSE_MS="1500" must be shorter than MAX_MS/);
  assert.match(refused({ MODEL_FILE: 'other.onnx' })!.message, /MODEL_FILE.*cannot change while arc-test runs/);
  assert.match(refused({ NOT_OURS: 'x' })!.message, /NOT_OURS.*is not a variable of arc-test/);
  assert.deepEqual(config, fresh(), 'nothing changed');
});

test('scope: service, instance and tenant; a change for every service skips variables of other services', () => {
  const me = { service: 'arc-test', instanceId: 'test-1' };
  assert.ok(inScope({}, me));
  assert.ok(inScope({ service: 'arc-test', instance_id: 'test-1' }, me));
  assert.ok(!inScope({ service: 'arc-other' }, me));
  assert.ok(!inScope({ instance_id: 'test-2' }, me));
  assert.ok(!inScope({ tenant: 'acme' }, me), 'a worker without a tenant takes only changes without one');
  assert.ok(inScope({ tenant: 'acme' }, { ...me, tenant: 'acme' }));
  assert.ok(inScope({}, { ...me, tenant: 'acme' }), "a change in the tenant's namespace that names no tenant is the tenant's");
  assert.ok(!inScope({ tenant: 'other' }, { ...me, tenant: 'acme' }));
  const config = fresh();
  assert.deepEqual(applyConfigChange(config, change({ OTHER_SERVICE_KEY: 1, PROMPT: 'All of you' }, {}), options), { kind: 'applied', keys: ['PROMPT'] });
  assert.deepEqual(applyConfigChange(config, change({ OTHER_SERVICE_KEY: 1 }, {}), options), { kind: 'ignored' });
  assert.deepEqual(applyConfigChange(config, change({ PROMPT: 'x' }, { service: 'arc-other' }), options), { kind: 'ignored' });
});
