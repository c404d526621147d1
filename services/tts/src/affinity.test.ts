import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { AudioStream, Room, RoomEvent, TrackKind, dispose, type AudioFrame } from '@livekit/rtc-node';
import { StickyRouter, connectBus } from '@arc/bus';
import { MoonshineStt, int16ToFloat32, wordErrors } from '@arc/speech';
import { REPO_ROOT, collect, startLiveKitServer, startNatsServer, startProcess, waitFor } from '@arc/testkit';


const MAIN = join(REPO_ROOT, 'services', 'tts', 'dist', 'main.js');

test('two TTS workers, three rooms, three sentences each: one voice per room, complete and in order', { timeout: 180_000 }, async (t) => {
  const nats = await startNatsServer();
  t.after(() => nats.stop());
  const livekit = await startLiveKitServer();
  t.after(() => livekit.stop());
  const workers = ['tts-1', 'tts-2'].map((id) =>
    startProcess(process.execPath, [MAIN], {
      env: { ...process.env, NATS_URL: nats.url, LIVEKIT_URL: livekit.url, LIVEKIT_API_KEY: livekit.apiKey, LIVEKIT_API_SECRET: livekit.apiSecret, INSTANCE_ID: id, LOG_FORMAT: 'json' },
    }),
  );
  t.after(() => Promise.all(workers.map((w) => w.stop(10_000))));
  await Promise.all(workers.map((w) => w.waitForOutput(/TTS worker ready/, 60_000)));
  const bus = await connectBus({ servers: nats.url, service: 'arc-voice-test' });
  t.after(() => bus.close(1000));
  const completed = await collect(nats.url, 'agent.tts.completed');
  t.after(() => completed.close());

  const roomNames = ['room-1', 'room-2', 'room-3'];
  const heard = new Map<string, { identities: Set<string>; pcm: Int16Array[] }>();
  const listeners: Room[] = [];
  t.after(async () => {
    for (const room of listeners) await room.disconnect().catch(() => {});
    await dispose();
  });
  for (const name of roomNames) {
    const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity: `listener-${name}` });
    token.addGrant({ roomJoin: true, room: name, canSubscribe: true });
    const room = new Room();
    listeners.push(room);
    const record = { identities: new Set<string>(), pcm: [] as Int16Array[] };
    heard.set(name, record);
    room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      record.identities.add(participant.identity);
      void (async () => {
        for await (const frame of new AudioStream(track, 16000, 1) as unknown as AsyncIterable<AudioFrame>) record.pcm.push(new Int16Array(frame.data));
      })().catch(() => {});
    });
    await room.connect(livekit.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  }

  const sentences = (room: string) => [`This is the first answer for ${room}.`, 'Here comes the second sentence.', 'And this is the last one.'];
  const router = new StickyRouter(bus, { subject: 'agent.tts.request', keyOf: (request) => request.target_room });
  const sent = new Map<string, string[]>();
  await Promise.all(
    roomNames.flatMap((room) =>
      sentences(room).map((text, index) => {
        const request_id = `${room}-s${index}`;
        sent.set(room, [...(sent.get(room) ?? []), request_id]);
        return router.send({ request_id, text, session_id: `session-${room}`, target_room: room });
      }),
    ),
  );
  await waitFor(() => completed.messages.length === 9, 60_000, 'nine completed');
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const stt = await MoonshineStt.load();
  for (const room of roomNames) {
    const events = completed.messages.map((m) => m.payload).filter((p) => p.target_room === room);
    assert.deepEqual(events.map((e) => e.request_id), sent.get(room), `${room}: completed in order`);
    assert.equal(new Set(events.map((e) => e.instance_id)).size, 1, `${room}: one worker`);
    assert.ok(events.every((e) => e.status === 'completed'));
    const record = heard.get(room)!;
    assert.equal(record.identities.size, 1, `${room}: one agent participant, heard ${[...record.identities].join(', ')}`);
    const pcm = new Int16Array(record.pcm.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of record.pcm) (pcm.set(f, at), (at += f.length));
    const text = (await stt.transcribe(int16ToFloat32(pcm))).text;
    const wer = wordErrors(sentences(room).join(' '), text);
    assert.ok(wer.wer <= 0.2, `${room}: WER ${(wer.wer * 100).toFixed(0)}% heard "${text}"`);
  }
  console.log(`rooms per worker: ${JSON.stringify(Object.fromEntries(roomNames.map((r) => [r, router.workerFor(r)])))}`);
});
