import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ExamplePayloads, KNOWN_SUBJECTS, isoTimestamp, validatePayload, type KnownSubject } from '@arc/contracts';
import { connectBus, type Bus } from '@arc/bus';
import { collect, startNatsServer, waitFor, type NatsServerHandle } from '@arc/testkit';

let nats: NatsServerHandle;
before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats.stop();
});

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number) {
  let state = seed;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const MESSAGES_PER_SUBJECT = Number(process.env.FUZZ_ROUNDS ?? 700); // × 15 subjects = 10,500

/** Malformed variants of a subject's example: every one must be rejected. */
function malformed(subject: KnownSubject, random: () => number): Uint8Array | string {
  const example = ExamplePayloads[subject] as Record<string, unknown>;
  const fresh: Record<string, unknown> = { ...structuredClone(example), timestamp: isoTimestamp() };
  const keys = Object.keys(fresh);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  switch (Math.floor(random() * 9)) {
    case 0: // random bytes
      return randomBytes(1 + Math.floor(random() * 512));
    case 1: {
      // wrong type for a field
      const key = pick(keys.filter((k) => k !== 'timestamp'));
      const wrong = pick([null, 42, 'text', [], { nested: true }, true, -1]);
      const variant = { ...fresh, [key]: wrong };
      return JSON.stringify(variant);
    }
    case 2: {
      // missing required field
      const required = (validatePayload(subject, {}) as { error: string }).error.split(':')[0]!;
      const variant: Record<string, unknown> = { ...fresh };
      delete variant[required];
      return JSON.stringify(variant);
    }
    case 3: // huge string
      return JSON.stringify({ ...fresh, [pick(keys.filter((k) => typeof fresh[k] === 'string' && k !== 'timestamp'))]: 'x'.repeat(25_000 + Math.floor(random() * 50_000)) });
    case 4: {
      // deep nesting
      const depth = 50 + Math.floor(random() * 5000);
      return `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    }
    case 5: // bad timestamps
      return JSON.stringify({ ...fresh, timestamp: pick(['yesterday', '2025-13-45T99:99:99Z', '', 1734183000000, '3025-01-01T00:00:00.000Z', isoTimestamp(Date.now() - 3_600_000)]) });
    case 6: {
      // another subject's payload
      const other = pick(KNOWN_SUBJECTS.filter((s) => s !== subject));
      return JSON.stringify({ ...(ExamplePayloads[other] as object), timestamp: isoTimestamp() });
    }
    case 7: // not an object
      return pick(['null', '[]', '"text"', '42', 'true', '', '{', '{"a":1,}', '\u0000\u0001']);
    default: {
      // truncated JSON
      const text = JSON.stringify(fresh);
      return text.slice(0, Math.floor(random() * (text.length - 1)));
    }
  }
}

test('10,000+ malformed messages: no handler sees invalid data, no crash, every message accounted for', { timeout: 180_000 }, async (t) => {
  const receiver: Bus = await connectBus({ servers: nats.url, service: 'arc-fuzz-target' });
  const dlq = await collect(nats.url, 'dlq.>');
  const sender: NatsConnection = await connect({ servers: nats.url });
  const checker = await connectBus({ servers: nats.url, service: 'arc-fuzz-check' });
  t.after(async () => {
    await Promise.allSettled([sender.close(), dlq.close(), checker.close(1000), receiver.close(1000)]);
  });
  let handlerCalls = 0;
  let invalidHandled = 0;
  for (const subject of KNOWN_SUBJECTS) {
    receiver.subscribe(subject, (payload) => {
      handlerCalls++;
      if (!validatePayload(subject, payload).ok) invalidHandled++;
    });
  }
  await receiver.flush();

  const random = rng(20261122);
  let sent = 0;
  const skipped: string[] = [];
  for (let round = 0; round < MESSAGES_PER_SUBJECT; round++) {
    for (const subject of KNOWN_SUBJECTS) {
      let data = malformed(subject, random);
      // The generator may by chance produce a valid payload (e.g. an optional field dropped):
      // replace it with bytes that are certainly invalid, so "every message is rejected" holds.
      if (typeof data === 'string') {
        try {
          const parsed = JSON.parse(data) as { timestamp?: string };
          const stale = typeof parsed?.timestamp === 'string' && Date.now() - Date.parse(parsed.timestamp) > 60_000;
          if (validatePayload(subject, parsed).ok && !stale) {
            skipped.push(subject);
            data = '{"certainly":"invalid"}';
          }
        } catch {
          // not JSON: certainly invalid
        }
      }
      sender.publish(subject, data);
      sent++;
    }
    if (round % 50 === 0) await sender.flush();
  }
  await sender.flush();
  assert.ok(sent >= Math.min(10_000, MESSAGES_PER_SUBJECT * KNOWN_SUBJECTS.length), `sent ${sent}`);

  await waitFor(() => receiver.snapshot().received === sent, 120_000, `all ${sent} received`);
  await dlq.waitForCount(sent, 120_000);
  const metrics = receiver.snapshot();
  assert.equal(handlerCalls, 0, 'no malformed message reached a handler');
  assert.equal(invalidHandled, 0);
  assert.equal(metrics.invalid + metrics.stale, sent, 'each message counted as invalid or stale');
  assert.equal(metrics.dead_lettered, sent, 'each message dead-lettered');
  assert.equal(dlq.messages.length, sent);
  assert.ok(dlq.messages.every((m) => /^dlq\.[a-z.]+\.(invalid_payload|stale)$/.test(m.subject) && typeof m.payload.reason === 'string'));
  if (sent >= 1000) assert.ok(metrics.stale > 0 && metrics.invalid > 0, "both rejection paths exercised");

  // The receiver still works after the flood.
  let fine = 0;
  receiver.subscribe('agent.tts.cancel', () => void fine++);
  await receiver.flush(); // the subscription reaches the server before the publish
  checker.publish('agent.tts.cancel', { target_room: 'room-1' });
  await waitFor(() => fine === 1, 5_000, 'a valid message after the flood');

  console.log(`fuzz: sent ${sent}, invalid ${metrics.invalid}, stale ${metrics.stale}, replaced accidental valid ${skipped.length}`);
});
