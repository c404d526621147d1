/**
 * NATS cluster failover: the three workers on a real 3-node nats-server cluster (routes on
 * loopback), each given every node's URL, with a real livekit-server and a user speaking in a
 * room. Mid-conversation the node the voice worker is connected to is killed with SIGKILL; every
 * worker that was on it reconnects to another node, and the conversation goes on. What the kill
 * cost (reconnect times, messages the bus could not send meanwhile) is printed for the closing
 * note. The audit stream is kept on all three nodes (ARC_AUDIT_REPLICAS=3): the first turn is
 * still read back after the kill. The model is the scripted OpenAI-compatible server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { dispose } from '@livekit/rtc-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { AUDIT_STREAM, connectBus, readAudit, type AuditEvent } from '@arc/bus';
import { Conversation } from '@arc/cli';
import { espeakSpeech, float32ToInt16 } from '@arc/speech';
import { collect, freePort, startLiveKitServer, startScriptedOpenAIServer, startTestNatsCluster, startWorkerProcess, waitFor } from '@arc/testkit';
import type { Collector, LiveKitServerHandle, ManagedProcess, NatsCluster, ScriptedOpenAIServer } from '@arc/testkit';

let cluster: NatsCluster;
let livekit: LiveKitServerHandle;
let model: ScriptedOpenAIServer;
const workers = new Map<string, ManagedProcess>();
const collectors: Collector[] = [];

before(async () => {
  cluster = await startTestNatsCluster(3);
  const voicePort = await freePort();
  livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  model = await startScriptedOpenAIServer();
  const nats = { url: cluster.url };
  const audited = { ARC_AUDIT_REPLICAS: '3' };
  workers.set('brain-1', startWorkerProcess('brain', { nats }, { ...audited, INSTANCE_ID: 'brain-1', OPENAI_BASE_URL: model.url }));
  workers.set('tts-1', startWorkerProcess('tts', { nats, livekit }, { ...audited, INSTANCE_ID: 'tts-1' }));
  workers.set('voice-1', startWorkerProcess('voice', { nats, livekit }, { ...audited, INSTANCE_ID: 'voice-1', VOICE_HTTP_PORT: String(voicePort), VOICE_MIN_SPEECH_MS: '120' }));
  await Promise.all([
    workers.get('brain-1')!.waitForOutput(/brain ready/, 60_000),
    workers.get('tts-1')!.waitForOutput(/TTS worker ready/, 60_000),
    workers.get('voice-1')!.waitForOutput(/voice worker ready/, 60_000),
  ]);
});

after(async () => {
  await Promise.all([...workers.values()].map((w) => w.stop(10_000)));
  await Promise.all(collectors.map((c) => c.close()));
  await dispose();
  await model?.close();
  await livekit?.stop();
  await cluster?.stop();
});

/** ms from `since` until the audit stream, read through `url`, has a leader on a live node */
async function streamLeaderElected(url: string, since: number): Promise<number> {
  const reader = await connectBus({ servers: url, service: 'arc-cluster-test-leader' });
  try {
    // JetStream's own meta leader may be re-elected too: until then even the manager's first request times out.
    const leader = async () => (await (await jetstreamManager(reader.natsConnection, { timeout: 1_000 })).streams.info(AUDIT_STREAM)).cluster?.leader;
    await waitFor(async () => Boolean(await leader().catch(() => undefined)), 30_000, 'the audit stream has a leader after the kill');
    return performance.now() - since;
  } finally {
    await reader.close(1_000);
  }
}

interface BusFigures {
  dropped: number;
  published: number;
  received: number;
}

test('killing the NATS node under the voice worker mid-conversation: the workers on it reconnect to another node and the next turn is answered', { timeout: 180_000 }, async () => {
  const user = await Conversation.join({ livekitUrl: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret, room: 'cluster', identity: 'cluster-user', answerTimeoutMs: 15_000 });
  try {
    const first = await user.ask(float32ToInt16(espeakSpeech('What is the weather like today?')));
    assert.ok(first.answer.length > 0, 'the first turn is answered');

    const victim = await cluster.nodeOf('voice-1');
    assert.ok(victim, 'the voice worker is connected to a node');
    const survivor = cluster.nodes.find((node) => node !== victim)!;
    const on = new Map<string, string | undefined>();
    for (const id of workers.keys()) on.set(id, (await cluster.nodeOf(id))?.name);
    const requests = await collect(survivor.url, 'agent.brain.request');
    const responses = await collect(survivor.url, 'agent.brain.response');
    const heartbeats = await collect(survivor.url, 'system.health.heartbeat');
    collectors.push(requests, responses, heartbeats);

    // SIGKILL: the node vanishes as a crashed host does; its clients see their sockets close.
    const moving = [...workers.entries()].filter(([id]) => on.get(id) === victim!.name);
    const killedAt = performance.now();
    const reconnected = moving.map(([id, worker]) => worker.waitForOutput(/reconnected to NATS/, 15_000).then(() => [id, performance.now() - killedAt] as const));
    await victim!.kill();
    const reconnectMs = new Map(await Promise.all(reconnected));
    for (const [id] of moving) {
      const now = await cluster.nodeOf(id);
      assert.ok(now && now !== victim, `${id} is on another node`);
    }

    // The audit stream's copies elect a new leader when theirs was on the killed node; until then
    // what is published to it is not stored (at-most-once: that window is what the audit can lose).
    const electionMs = await streamLeaderElected(survivor.url, killedAt);

    const second = await user.ask(float32ToInt16(espeakSpeech('And what about tomorrow morning?')));
    assert.ok(second.answer.length > 0, 'the turn after the kill is answered');
    // The answer came through the bus: the request of the second turn went out and its response came back.
    await waitFor(() => requests.messages.some((m) => /tomorrow/i.test(String(m.payload.user_input))), 10_000, 'the second turn reached the brain');
    const asked = requests.messages.find((m) => /tomorrow/i.test(String(m.payload.user_input)))!;
    await waitFor(() => responses.messages.some((m) => m.payload.request_id === asked.payload.request_id), 10_000, 'the brain answered the second turn');

    // What the kill cost: each worker's bus figures from its latest heartbeat after the turn.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const figures = new Map<string, BusFigures>();
    for (const m of heartbeats.messages) {
      const beat = m.payload as { instance_id?: string; metrics: { bus?: BusFigures } };
      if (beat.instance_id && beat.metrics.bus) figures.set(beat.instance_id, beat.metrics.bus);
    }
    const rows = [...workers.keys()].map((id) => ({
      worker: id,
      was_on: on.get(id),
      reconnect_ms: reconnectMs.has(id) ? Math.round(reconnectMs.get(id)!) : '-',
      dropped: figures.get(id)?.dropped ?? '?',
      published: figures.get(id)?.published ?? '?',
    }));
    // The audit, replicated on three nodes, lost nothing of the turn before the kill.
    // The stream's copies elect a new leader when theirs was on the killed node: read once they have.
    const reader = await connectBus({ servers: survivor.url, service: 'arc-cluster-test-audit' });
    let events: AuditEvent[] = [];
    const readFrom = performance.now();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          events = [];
          for await (const event of readAudit(reader.natsConnection)) events.push(event);
          break;
        } catch (error) {
          if (attempt >= 6) throw error;
        }
      }
    } finally {
      await reader.close(1_000);
    }
    const auditReadMs = performance.now() - readFrom;
    const firstTurn = events.filter((e) => e.subject === 'agent.brain.request' && /weather/i.test(String((e.payload as { user_input?: string }).user_input)));
    assert.equal(firstTurn.length, 1, `the first turn's request is in the audit after the kill (${events.length} events read)`);
    assert.ok(events.some((e) => e.subject === 'agent.brain.request' && /tomorrow/i.test(String((e.payload as { user_input?: string }).user_input))), 'and so is the second');

    console.log(`audit stream leader after the kill: ${Math.round(electionMs)} ms`);
    console.log(`killed ${victim!.name}; voice-to-voice before ${Math.round(first.voiceToVoiceMs ?? -1)} ms, after ${Math.round(second.voiceToVoiceMs ?? -1)} ms; audit read from a survivor in ${Math.round(auditReadMs)} ms (${events.length} events)`);
    console.table(rows);
    for (const [id, ms] of reconnectMs) assert.ok(ms < 5_000, `${id} reconnected in ${Math.round(ms)} ms`);
  } finally {
    await user.leave();
  }
});
