/**
 * npm run bench:tts — request → first frame captured (worker side, from agent.tts.completed's
 * time_to_first_audio_ms) and request → first frame received by a listener in the room, for 1 and
 * 4 concurrent rooms (real nats-server, livekit-server, one TTS worker process). Each room is
 * joined by a warm-up request first, so the numbers are for a conversation already under way.
 * Prints a table, writes bench-results/tts.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { AudioStream, Room, RoomEvent, TrackKind, dispose, type AudioFrame } from '@livekit/rtc-node';
import { StickyRouter, connectBus } from '@arc/bus';
import { preciseNowMs } from '@arc/contracts';
import { REPO_ROOT, collect, percentile, startLiveKitServer, startNatsServer, startProcess, waitFor } from '@arc/testkit';


const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SENTENCE = 'Sure, it is ten past nine in the evening in Paris now.'; // 12 words

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const livekit = await startLiveKitServer();
  const worker = startProcess(process.execPath, [join(REPO_ROOT, 'services', 'tts', 'dist', 'main.js')], {
    env: { ...process.env, NATS_URL: nats.url, LIVEKIT_URL: livekit.url, LIVEKIT_API_KEY: livekit.apiKey, LIVEKIT_API_SECRET: livekit.apiSecret, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
  });
  const bus = await connectBus({ servers: nats.url, service: 'arc-bench-tts' });
  const completed = await collect(nats.url, 'agent.tts.completed');
  const results: Record<string, { captured: number[]; received: number[] }> = {};
  const rooms: Room[] = [];
  try {
    await worker.waitForOutput(/TTS worker ready/, 60_000);
    const router = new StickyRouter(bus, { subject: 'agent.tts.request', keyOf: (request) => request.target_room });
    for (const roomCount of [1, 4]) {
      const names = Array.from({ length: roomCount }, (_, i) => `bench-${roomCount}-${i}`);
      const speechAt = new Map<string, number[]>();
      for (const name of names) {
        const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity: `listener-${name}` });
        token.addGrant({ roomJoin: true, room: name, canSubscribe: true });
        const room = new Room();
        rooms.push(room);
        speechAt.set(name, []);
        room.on(RoomEvent.TrackSubscribed, (track) => {
          if (track.kind !== TrackKind.KIND_AUDIO) return;
          void (async () => {
            for await (const frame of new AudioStream(track, 16000, 1) as unknown as AsyncIterable<AudioFrame>) {
              let sum = 0;
              for (const s of frame.data) sum += s * s;
              if (Math.sqrt(sum / frame.data.length) > 300) speechAt.get(name)!.push(preciseNowMs());
            }
          })().catch(() => {});
        });
        await room.connect(livekit.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
      }
      const round = async (tag: string) => {
        const sentAt = new Map<string, number>();
        await Promise.all(
          names.map((name) => {
            sentAt.set(name, preciseNowMs());
            return router.send({ request_id: `${name}-${tag}`, text: SENTENCE, session_id: name, target_room: name });
          }),
        );
        await waitFor(() => names.every((n) => completed.messages.some((m) => m.payload.request_id === `${n}-${tag}`)), 30_000, 'completed');
        return names.map((name) => {
          const done = completed.messages.find((m) => m.payload.request_id === `${name}-${tag}`)!.payload;
          const heard = speechAt.get(name)!.find((t) => t >= sentAt.get(name)!);
          return { captured: done.time_to_first_audio_ms as number, received: heard === undefined ? NaN : heard - sentAt.get(name)! };
        });
      };
      await round('warmup');
      const key = `${roomCount} room${roomCount > 1 ? 's' : ''}`;
      results[key] = { captured: [], received: [] };
      for (let i = 0; i < ROUNDS; i++) {
        for (const r of await round(`r${i}`)) {
          results[key]!.captured.push(r.captured);
          if (!Number.isNaN(r.received)) results[key]!.received.push(r.received);
        }
      }
    }
  } finally {
    for (const room of rooms) await room.disconnect().catch(() => {});
    await worker.stop(10_000);
    await dispose();
    await completed.close();
    await bus.close(1000);
    await livekit.stop();
    await nats.stop();
  }
  console.log(`${'rooms'.padEnd(10)}${'captured p50'.padStart(14)}${'p99'.padStart(8)}${'received p50'.padStart(14)}${'p99'.padStart(8)}   (ms from request; first sentence of 12 words)`);
  for (const [key, r] of Object.entries(results)) {
    console.log(`${key.padEnd(10)}${percentile(r.captured, 0.5).toFixed(0).padStart(14)}${percentile(r.captured, 0.99).toFixed(0).padStart(8)}${percentile(r.received, 0.5).toFixed(0).padStart(14)}${percentile(r.received, 0.99).toFixed(0).padStart(8)}`);
  }
  console.log('target: first frame received ≤ 350 ms median at 1 room');
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/tts.json', `${JSON.stringify({ at: new Date().toISOString(), sentence: SENTENCE, rounds: ROUNDS, results }, null, 2)}\n`);
  console.log('wrote bench-results/tts.json');
}

await main();
