/**
 * Tenants isolated by NATS permissions (issue 15, seed 000): `arc tenant add` writes the NATS
 * users of two tenants, a real nats-server runs with that file, and each tenant has its own brain
 * worker (ARC_TENANT, NATS_NKEY_FILE) and its own model (the scripted OpenAI-compatible server,
 * standing in for a paid remote API). Each tenant's conversation works in its namespace; with its
 * own credentials a tenant can neither publish, subscribe nor request into the other, nor read
 * the other's replies; a tenant added or removed while the server runs takes effect on reload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { connectBus, ensureAuditStream, PermissionDeniedError, readAudit, type Bus } from '@arc/bus';
import { ExamplePayloads, newRequestId, newTraceId, tenantInboxPrefix, workerSubject, type BrainResponse } from '@arc/contracts';
import { REPO_ROOT, startNatsServer, startScriptedOpenAIServer, startWorkerProcess, waitFor, waitUntilReady } from '@arc/testkit';
import type { ManagedProcess, NatsServerHandle, ScriptedOpenAIServer } from '@arc/testkit';

const TENANTS = ['acme', 'globex'] as const;
type Tenant = (typeof TENANTS)[number];
const dir = mkdtempSync(join(tmpdir(), 'arc-tenants-'));
const seedFile = (name: string) => join(dir, `${name}.nk`);
const seedOf = (name: string) => new TextEncoder().encode(readFileSync(seedFile(name), 'utf8').trim());
const arc = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

let nats: NatsServerHandle;
const models = {} as Record<Tenant, ScriptedOpenAIServer>;
const brains: ManagedProcess[] = [];
const buses = {} as Record<Tenant, Bus>;
const raw: NatsConnection[] = [];
let operator: NatsConnection;
/** every message the operator saw on the wire, by subject */
const wire: string[] = [];

/** The errors the server sent each raw connection (permissions violations), in order. */
const serverErrors = new WeakMap<NatsConnection, string[]>();

/** A plain NATS connection with a user's key: what a tenant can do with its credentials, bus or not. */
async function rawConnection(name: string, inboxPrefix?: string): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url, authenticator: nkeyAuthenticator(seedOf(name)), ...(inboxPrefix ? { inboxPrefix } : {}) });
  raw.push(nc);
  const errors: string[] = [];
  serverErrors.set(nc, errors);
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'error') errors.push(String(status.error.message));
  })();
  return nc;
}

/** The server's verdicts on what `act` sends through `nc`: its permissions violations, or none. */
async function violations(nc: NatsConnection, act: () => void): Promise<string[]> {
  const errors = serverErrors.get(nc)!;
  const before = errors.length;
  act();
  await nc.flush().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 200));
  return errors.slice(before);
}

before(async () => {
  for (const tenant of TENANTS) {
    const printed = arc(['tenant', 'add', tenant, '--dir', dir]);
    assert.match(printed, new RegExp(`ARC_TENANT=${tenant} NATS_NKEY_FILE=${seedFile(tenant)}`));
  }
  nats = await startNatsServer({ include: join(dir, 'auth.conf'), jetstream: true });
  operator = await rawConnection('operator');
  operator.subscribe('>', { callback: (_error, msg) => void wire.push(msg.subject) });
  await ensureAuditStream(operator); // the operator keeps the audit; tenants' workers cannot
  await operator.flush();
  for (const tenant of TENANTS) {
    models[tenant] = await startScriptedOpenAIServer({ script: (request) => ({ type: 'text', text: `${tenant} heard: ${request.lastUserMessage}` }) });
    const brain = startWorkerProcess('brain', { nats }, { INSTANCE_ID: `brain-${tenant}`, ARC_TENANT: tenant, NATS_NKEY_FILE: seedFile(tenant), OPENAI_BASE_URL: models[tenant].url });
    brains.push(brain);
    buses[tenant] = await connectBus({ servers: nats.url, service: `arc-test-${tenant}`, tenant, nkeySeed: seedOf(tenant) });
  }
  await Promise.all(brains.map((brain) => waitUntilReady('brain', brain)));
});

after(async () => {
  await Promise.all(brains.map((brain) => brain.stop(10_000)));
  await Promise.all(Object.values(buses).map((bus) => bus.close(1_000)));
  await Promise.all(raw.map((nc) => nc.close().catch(() => {})));
  await Promise.all(Object.values(models).map((model) => model.close()));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One turn of a tenant's conversation over its bus; resolves with the brain's answer. */
async function ask(tenant: Tenant, text: string, previous: { user: string; agent: string }[] = []): Promise<BrainResponse> {
  const bus = buses[tenant];
  const requestId = newRequestId();
  let answer: BrainResponse | undefined;
  const sub = bus.subscribe('agent.brain.response', (response) => {
    if (response.request_id === requestId) answer = response;
  });
  await bus.flush();
  bus.publish('agent.brain.request', {
    ...ExamplePayloads['agent.brain.request'],
    request_id: requestId,
    trace_id: newTraceId(),
    timestamp: new Date().toISOString(),
    session_id: `${tenant}-session`,
    user_input: text,
    context: { previous_turns: previous },
  });
  try {
    await waitFor(() => answer !== undefined, 15_000, `${tenant}'s brain answered "${text}"`);
  } finally {
    await sub.unsubscribe();
  }
  return answer!;
}

test("each tenant's conversation works in its own namespace, answered by its own brain and model", { timeout: 60_000 }, async () => {
  const seenByGlobex: { subject: string; session?: string }[] = [];
  const globexWatch = buses.globex.subscribe('>', (payload, meta) => void seenByGlobex.push({ subject: meta.subject, session: (payload as { session_id?: string }).session_id }), { deadLetter: false });
  await buses.globex.flush();
  const first = await ask('acme', 'Book a table for four.');
  assert.equal(first.agent_response.trim(), 'acme heard: Book a table for four.');
  const second = await ask('acme', 'At eight, please.', [{ user: 'Book a table for four.', agent: first.agent_response }]);
  assert.match(second.agent_response, /^acme heard: At eight/);
  const theirs = await ask('globex', 'Where is my parcel?');
  assert.equal(theirs.agent_response.trim(), 'globex heard: Where is my parcel?');
  await globexWatch.unsubscribe();

  assert.equal(models.acme.requests.length, 2, "acme's model had acme's two turns");
  assert.deepEqual(models.globex.requests.map((r) => r.lastUserMessage), ['Where is my parcel?'], "globex's model had globex's turn only");
  const globexSubjects = [...new Set(seenByGlobex.map((m) => m.subject))];
  assert.ok(globexSubjects.includes('agent.brain.response') && !globexSubjects.some((s) => s.startsWith('t.')), `globex's bus sees its subjects without the prefix: ${globexSubjects.join(', ')}`);
  assert.ok(!seenByGlobex.some((m) => m.session === 'acme-session'), "globex's bus received none of acme's conversation");
  const acmeOnWire = wire.filter((s) => s.startsWith('t.acme.'));
  assert.ok(acmeOnWire.includes('t.acme.agent.brain.request') && acmeOnWire.includes('t.acme.agent.brain.response') && acmeOnWire.includes('t.acme.system.health.heartbeat'), `acme's subjects on the wire: ${[...new Set(acmeOnWire)].join(', ')}`);
  assert.ok(!wire.some((s) => s.startsWith('agent.') || s.startsWith('system.')), `no tenant message outside a namespace: ${[...new Set(wire.filter((s) => !s.startsWith('t.')))].join(', ')}`);
  // The history of acme's second turn reached acme's model.
  assert.ok(JSON.stringify(models.acme.requests[1]!.body.messages).includes('acme heard: Book a table for four.'));

  // The operator's audit kept each tenant's events under their wire subjects; arc audit --tenant shows one tenant's.
  const audited: string[] = [];
  for await (const event of readAudit(operator)) audited.push(event.subject);
  assert.ok(audited.includes('t.acme.agent.brain.request') && audited.includes('t.globex.agent.brain.response'), `audited: ${[...new Set(audited)].join(', ')}`);
  const printed = arc(['audit', '--tenant', 'acme', '--json'], { NATS_URL: nats.url, NATS_NKEY_FILE: seedFile('operator') })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { subject: string; payload: { session_id?: string } });
  assert.ok(printed.length > 0 && printed.every((event) => event.subject.startsWith('t.acme.')), 'arc audit --tenant acme prints acme\'s events only');
  assert.ok(printed.some((event) => event.subject === 't.acme.agent.brain.request' && event.payload.session_id === 'acme-session'));
});

test('with its own credentials a tenant can neither publish, subscribe nor request into another, nor read its replies', { timeout: 60_000 }, async () => {
  const acme = await rawConnection('acme', tenantInboxPrefix('acme'));
  const before = models.globex.requests.length;
  const request = { ...ExamplePayloads['agent.brain.request'], request_id: newRequestId(), trace_id: newTraceId(), timestamp: new Date().toISOString(), user_input: 'acme writing to globex' };

  const published = await violations(acme, () => acme.publish('t.globex.agent.brain.request', JSON.stringify(request)));
  assert.ok(published.some((m) => /Permissions Violation for Publish to "t.globex.agent.brain.request"/.test(m)), `publish refused: ${published.join('; ')}`);
  const unprefixed = await violations(acme, () => acme.publish('agent.brain.request', JSON.stringify(request)));
  assert.ok(unprefixed.some((m) => /Permissions Violation for Publish to "agent.brain.request"/.test(m)), `publish outside any namespace refused: ${unprefixed.join('; ')}`);

  for (const pattern of ['t.globex.>', 't.*.agent.>', '>', '_INBOX.>', '_INBOX_globex.>']) {
    const sub = acme.subscribe(pattern);
    const refused = await Promise.race([sub.closed.then((error) => error), new Promise((resolve) => setTimeout(() => resolve(undefined), 2_000))]);
    assert.match(String((refused as Error | undefined)?.message), /Permissions Violation for Subscription/, `subscription to ${pattern} refused`);
  }

  const startedAt = Date.now();
  await assert.rejects(acme.request('t.globex.agent.tts.request', '{}', { timeout: 2_000 }), (error: Error) => /Permissions Violation for Publish/.test(`${error.message} ${String((error as { cause?: Error }).cause?.message)}`));
  assert.ok(Date.now() - startedAt < 1_000, 'a refused request is answered at once, not by a timeout');
  // The tenant's bus cannot even name another tenant's subjects; a misconfigured one is refused with a typed error.
  const acmeWithGlobexKey = await connectBus({ servers: nats.url, service: 'arc-test-misconfigured', tenant: 'acme', nkeySeed: seedOf('globex') });
  await assert.rejects(acmeWithGlobexKey.request('agent.tts.request', { ...ExamplePayloads['agent.tts.request'], timestamp: new Date().toISOString() }), PermissionDeniedError);
  await acmeWithGlobexKey.close(500);
  assert.equal(models.globex.requests.length, before, "globex's brain received nothing from acme");

  // acme's replies: a request inside acme's namespace is answered on acme's inbox prefix, which
  // globex may not subscribe to (a wildcard on every inbox neither).
  const responder = buses.acme.subscribe('agent.tts.request', (payload, meta) =>
    meta.respond?.({ request_id: payload.request_id, instance_id: 'tts-acme', target_room: payload.target_room, worker_subject: workerSubject('agent.tts.request', 'tts-acme') }),
  );
  await buses.acme.flush();
  const globex = await rawConnection('globex', tenantInboxPrefix('globex'));
  const stolen: string[] = [];
  for (const pattern of ['_INBOX_acme.>', '_INBOX.>', '>']) {
    const sub = globex.subscribe(pattern, { callback: (error, msg) => void (error || stolen.push(msg.subject)) });
    const refused = await Promise.race([sub.closed.then((error) => error), new Promise((resolve) => setTimeout(() => resolve(undefined), 2_000))]);
    assert.match(String((refused as Error | undefined)?.message), /Permissions Violation for Subscription/, `globex's subscription to ${pattern} refused`);
  }
  const wireBefore = wire.length;
  const { reply } = await buses.acme.request('agent.tts.request', { ...ExamplePayloads['agent.tts.request'], timestamp: new Date().toISOString() });
  assert.equal(reply.instance_id, 'tts-acme');
  await responder.unsubscribe();
  const replySubjects = wire.slice(wireBefore).filter((s) => s.startsWith('_INBOX'));
  assert.ok(replySubjects.length > 0 && replySubjects.every((s) => s.startsWith(`${tenantInboxPrefix('acme')}.`)), `acme's reply came on its inbox prefix: ${replySubjects.join(', ')}`);
  assert.deepEqual(stolen, [], 'globex received none of acme\'s messages');
});

test('a tenant added while the server runs can connect after a reload; a removed one cannot', { timeout: 60_000 }, async () => {
  arc(['tenant', 'add', 'initech', '--dir', dir]);
  nats.reload();
  const initech = await waitFor(async () => connectBus({ servers: nats.url, service: 'arc-test-initech', tenant: 'initech', nkeySeed: seedOf('initech'), connectTimeoutMs: 1_000 }).catch(() => undefined), 10_000, 'initech connected after the reload', 200);
  let heard = 0;
  initech.subscribe('system.health.heartbeat', () => void heard++);
  await initech.flush();
  initech.publish('system.health.heartbeat', { ...ExamplePayloads['system.health.heartbeat'], timestamp: new Date().toISOString() });
  await waitFor(() => heard === 1, 5_000, "initech hears its own namespace's messages");
  await initech.close(500);

  const globexSeed = seedOf('globex');
  arc(['tenant', 'remove', 'globex', '--dir', dir]);
  assert.doesNotMatch(readFileSync(join(dir, 'auth.conf'), 'utf8'), /globex/);
  nats.reload();
  await waitFor(
    async () => {
      try {
        const nc = await connect({ servers: nats.url, authenticator: nkeyAuthenticator(globexSeed), reconnect: false });
        await nc.close();
        return false;
      } catch (error) {
        return /Authorization Violation/i.test((error as Error).message);
      }
    },
    10_000,
    "globex's old key refused after the reload",
    200,
  );
});
