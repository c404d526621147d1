import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import {
  ExamplePayloads,
  KNOWN_SUBJECTS,
  auditStreamSubjects,
  auditedSubject,
  eventSubjectOf,
  ownerSubject,
  SubjectSchemas,
  Wildcards,
  assertValidSubject,
  deadLetterSubject,
  isCanonicalUtcDateTime,
  isoTimestamp,
  jsonSchemaFiles,
  newTraceId,
  parseTimestampMs,
  subjectMatches,
  validatePayload,
  validateDeadLetter,
  InvalidSubjectError,
  InvalidTenantError,
  assertValidTenant,
  subjectInTenant,
  tenantInboxPrefix,
  tenantPermissions,
  tenantSubject,
  testVectors,
  type DeadLetterReason,
} from './index.js';
import { SCHEMA_DIR, VECTORS_FILE, testVectorsText } from './generate-schemas.js';


test('every seed example payload validates on its subject', () => {
  for (const subject of KNOWN_SUBJECTS) {
    const result = validatePayload(subject, ExamplePayloads[subject]);
    assert.ok(result.ok, `${subject}: ${result.ok ? '' : result.error}`);
  }
});

test('the shared test vectors hold: valid ones pass, invalid ones are rejected naming their field', () => {
  const vectors = testVectors();
  for (const subject of KNOWN_SUBJECTS) {
    const invalid = vectors.payloads.filter((v) => v.subject === subject && !v.valid).length;
    assert.ok(invalid >= 5, `${subject}: only ${invalid} invalid variants`);
    for (const notAnObject of [null, [], 'text', 42]) {
      assert.equal(validatePayload(subject, notAnObject).ok, false, `${subject} accepted ${JSON.stringify(notAnObject)}`);
    }
  }
  for (const vector of vectors.payloads) {
    const result = validatePayload(vector.subject, vector.payload);
    assert.equal(result.ok, vector.valid, `${vector.subject} ${vector.name}: ${result.ok ? 'accepted' : result.error}`);
    if (!result.ok) assert.match(result.error, new RegExp(vector.field!), `${vector.subject} ${vector.name}: ${result.error}`);
  }
  for (const { subject, reason, dead_letter_subject } of vectors.dead_letter_subjects) {
    assert.equal(deadLetterSubject(subject, reason as DeadLetterReason), dead_letter_subject);
  }
});

test('the vectors file is current and a plain JSON Schema validator over the schema files agrees with it', async () => {
  assert.equal(readFileSync(VECTORS_FILE, 'utf8'), testVectorsText(), 'vectors/test-vectors.json is stale: run `npm run schemas`');
  // What a Go or Python client does: load the published schema file, validate with a standard library.
  const { Ajv } = await import('ajv');
  const formats = (await import('ajv-formats')) as unknown as { default: (ajv: InstanceType<typeof Ajv>) => void };
  const ajv = new Ajv({ strict: false, allErrors: true });
  formats.default(ajv);
  for (const vector of testVectors().payloads) {
    const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}${vector.subject}.schema.json`, 'utf8')) as object;
    const validate = ajv.getSchema(vector.subject) ?? ajv.compile(schema);
    const ok = validate(vector.payload) as boolean;
    assert.equal(ok, vector.valid, `${vector.subject} ${vector.name}`);
    if (!ok) {
      const named = (validate.errors ?? []).some((e) => `${e.instancePath} ${JSON.stringify(e.params)}`.includes(vector.field!));
      assert.ok(named, `${vector.subject} ${vector.name}: ${JSON.stringify(validate.errors)}`);
    }
  }
});

test('semantic limits name the field and value range', () => {
  const request = ExamplePayloads['agent.brain.request'];
  const cases: [unknown, RegExp][] = [
    [{ ...request, constraints: { max_tokens: -1 } }, /constraints\.max_tokens: must be >= 1/],
    [{ ...request, constraints: { timeout_ms: 10_000_000 } }, /constraints\.timeout_ms: must be <= 300000/],
    [{ ...request, constraints: { temperature: 9 } }, /constraints\.temperature/],
    [{ ...request, constraints: { max_sentences: 0 } }, /constraints\.max_sentences: must be >= 1/],
    [{ ...request, constraints: { max_words: 1.5 } }, /constraints\.max_words/],
    [{ ...request, user_input: '' }, /user_input/],
    [{ ...request, user_input: 'x'.repeat(20_001) }, /user_input/],
    [{ ...request, trace_id: 'not-a-trace' }, /trace_id/],
    [{ ...request, context: { user_profile: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } } }, /context\.user_profile: nested deeper/],
  ];
  for (const [payload, expected] of cases) {
    const result = validatePayload('agent.brain.request', payload);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error, expected);
  }
  for (const [subject, first] of [
    ['agent.brain.error', 'timeout'],
    ['agent.voice.error', 'livekit_join_failed'],
    ['agent.tts.error', 'unknown_voice'],
  ] as const) {
    const badEnum = validatePayload(subject, { ...ExamplePayloads[subject], error_type: 'oops' });
    assert.equal(badEnum.ok, false, `${subject}: error_type is one of a list`);
    if (!badEnum.ok) assert.match(badEnum.error, new RegExp(`error_type: must be one of "${first}"`));
  }
  const noTarget = validatePayload('agent.tts.cancel', { timestamp: isoTimestamp(), trace_id: newTraceId() });
  assert.equal(noTarget.ok, false);
  if (!noTarget.ok) assert.match(noTarget.error, /target_room or request_id/);
});

test('subject checks reject long, empty and illegal tokens', () => {
  for (const subject of KNOWN_SUBJECTS) assertValidSubject(subject);
  for (const pattern of Object.values(Wildcards)) assertValidSubject(pattern, { wildcards: true });
  const bad = ['', 'a..b', '.a', 'a.', 'a.b.c.d.e.f.g.h.i', 'agent.voice track', 'agent.$sys', 'agent.*', 'agent.>.x'];
  for (const subject of bad) {
    assert.throws(() => assertValidSubject(subject, { wildcards: subject === 'agent.>.x' }), InvalidSubjectError, subject);
  }
  assertValidSubject('a.b.c.d.e.f.g.h');
  assert.equal(deadLetterSubject('agent.brain.request', 'invalid_payload'), 'dlq.agent.brain.request.invalid_payload');
  assert.equal(deadLetterSubject('a.b.c.d.e.f.g', 'handler_error'), 'dlq.unroutable.handler_error');
  assert.ok(subjectMatches('agent.>', 'agent.brain.request'));
  assert.ok(subjectMatches('*.*.error', 'agent.tts.error'));
  assert.ok(!subjectMatches('*.*.error', 'system.service.error.x'));
  assert.ok(subjectMatches('agent.*.track.>', 'agent.voice.track.published'));
  assert.ok(!subjectMatches('agent.>', 'agent'));
  // owner subjects: the owning voice worker's copy of an answering event, with that event's schema
  assert.equal(ownerSubject('agent.brain.response', 'voice-1'), 'agent.brain.to.voice-1.response');
  assert.equal(ownerSubject('agent.tts.completed', 'v_2'), 'agent.tts.to.v_2.completed');
  assert.equal(eventSubjectOf('agent.brain.to.voice-1.partial'), 'agent.brain.partial');
  assert.equal(eventSubjectOf('agent.brain.to.x.request'), undefined);
  assert.throws(() => ownerSubject('agent.brain.response', 'a.b'), InvalidSubjectError);
  assert.ok(subjectMatches(Wildcards.ownerSubjects, 'agent.tts.to.v_2.completed'));
  assert.equal(validatePayload('agent.brain.to.voice-1.response', ExamplePayloads['agent.brain.response']).ok, true);
  assert.equal(validatePayload('agent.brain.to.voice-1.response', { ...ExamplePayloads['agent.brain.response'], request_id: 7 }).ok, false);
  assert.ok(!auditStreamSubjects().some((subject) => subjectMatches(subject, 'agent.brain.to.voice-1.response')), 'the audit keeps the seed copy only');
});

test('timestamps keep microseconds and trace ids are W3C', () => {
  const now = 1765719000123.456;
  const iso = isoTimestamp(now);
  assert.equal(iso, '2025-12-14T13:30:00.123456Z');
  assert.ok(Math.abs(parseTimestampMs(iso) - now) < 0.002);
  assert.equal(parseTimestampMs('2025-12-14T13:30:00.000Z'), 1765719000000);
  assert.ok(Number.isNaN(parseTimestampMs('yesterday')));
  // fast path (cached whole seconds) agrees with the general one, across second boundaries
  for (const t of [now, now + 0.001, now + 876.543, now + 1000.5, now - 86_400_000.25, 0.5, 951782400000.999]) {
    const text = isoTimestamp(t);
    assert.equal(text, `${new Date(Math.floor(t)).toISOString().slice(0, -1)}${text.slice(23, 26)}Z`);
    assert.ok(Math.abs(parseTimestampMs(text) - t) < 0.002, text);
  }
  assert.equal(parseTimestampMs('2025-12-14T13:30:00.12345xZ'), Date.parse('2025-12-14T13:30:00.12345xZ'));
  assert.ok(Number.isNaN(parseTimestampMs('2025-12-14T13:30:xx.123456Z')));
  assert.equal(parseTimestampMs('2025-12-14T13:30:00.000001Z'), 1765719000000.001);
  assert.equal(parseTimestampMs('2025-12-14T13:30:01.5Z'), 1765719001500);
  assert.match(newTraceId(), /^[0-9a-f]{32}$/);
});

test('dead letters have a schema of their own', () => {
  const ok = validateDeadLetter({
    timestamp: isoTimestamp(),
    original_subject: 'agent.brain.request',
    error_type: 'invalid_payload',
    reason: 'user_input: is required',
    service: 'arc-sherlock-brain',
    instance_id: 'brain-1',
    original_size_bytes: 2,
    original_payload_base64: 'e30=',
    truncated: false,
  });
  assert.ok(ok.ok);
  assert.equal(validateDeadLetter({ reason: 'x' }).ok, false);
});

test('generated JSON Schema files are up to date (run `npm run schemas` if not)', () => {
  const expected = jsonSchemaFiles();
  const present = readdirSync(SCHEMA_DIR).sort();
  assert.deepEqual(present, [...expected.keys()].sort());
  for (const [name, text] of expected) {
    assert.equal(readFileSync(`${SCHEMA_DIR}${name}`, 'utf8'), text, `${name} is stale`);
  }
});

test('the fast date-time check accepts only what ajv-formats accepts', async () => {
  const { Ajv } = await import('ajv');
  const formats = (await import('ajv-formats')) as unknown as { default: (ajv: InstanceType<typeof Ajv>) => void };
  const reference = new Ajv();
  formats.default(reference);
  const check = reference.compile({ type: 'string', format: 'date-time' });
  const samples = [
    '2025-12-14T13:30:00Z', '2025-12-14T13:30:00.1Z', '2025-12-14T13:30:00.123456Z', '2024-02-29T00:00:00Z',
    '2025-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T23:59:59.999Z', '2025-04-31T00:00:00Z',
    '2025-13-01T00:00:00Z', '2025-00-01T00:00:00Z', '2025-12-00T00:00:00Z', '2025-12-14T24:00:00Z',
    '2025-12-14T23:60:00Z', '2025-12-14T23:59:60Z', '2016-12-31T23:59:60Z', '2025-12-14T13:30:00.Z',
    '2025-12-14T13:30:00', '2025-12-14t13:30:00z', '2025-12-14 13:30:00Z', '2025-12-14T13:30:00+01:00',
    '2025-1-14T13:30:00Z', '2025-12-14T13:30:0aZ', '+2025-12-14T13:30:00Z', '2025-12-14T13:30:00.12a4Z',
  ];
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const alphabet = '0123456789-:.TZtz +';
  for (let i = 0; i < 20_000; i++) {
    const chars = [...samples[i % samples.length]!];
    chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)]!;
    samples.push(chars.join(''));
  }
  for (const text of samples) {
    if (isCanonicalUtcDateTime(text)) assert.ok(check(text), `fast check accepted ${text}`);
    const viaSchema = validatePayload('agent.tts.cancel', { ...ExamplePayloads['agent.tts.cancel'], timestamp: text });
    const timestampRejected = !viaSchema.ok && viaSchema.error.startsWith('timestamp');
    assert.equal(timestampRejected, !check(text), text);
  }
});

test('tenant subjects: the namespace prefix, its removal, the inbox prefix and the permissions of a tenant', () => {
  assert.equal(tenantSubject('acme', 'agent.brain.request'), 't.acme.agent.brain.request');
  assert.equal(tenantSubject('acme', 'agent.>'), 't.acme.agent.>');
  assert.equal(subjectInTenant('acme', 't.acme.agent.brain.to.voice-1.response'), 'agent.brain.to.voice-1.response');
  assert.throws(() => subjectInTenant('acme', 't.globex.agent.brain.request'), InvalidSubjectError);
  assert.equal(tenantInboxPrefix('acme'), '_INBOX_acme');
  assert.equal(auditedSubject('t.acme.audit.agent.tts.request'), 't.acme.agent.tts.request');
  assert.equal(auditedSubject('audit.agent.tts.request'), 'agent.tts.request');
  assert.equal(auditedSubject('t.acme.agent.brain.request'), 't.acme.agent.brain.request');
  assert.ok(auditStreamSubjects().some((subject) => subjectMatches(subject, 't.acme.agent.brain.request')), "the audit keeps tenants' events");
  assert.deepEqual(tenantPermissions('acme'), { publish: ['t.acme.>', '_INBOX_acme.>'], subscribe: ['t.acme.>', '_INBOX_acme.>'] });
  for (const bad of ['', 'Acme', 'a.b', 'a*', '>', '-x', 'x'.repeat(33)]) assert.throws(() => assertValidTenant(bad), InvalidTenantError, bad);
});
