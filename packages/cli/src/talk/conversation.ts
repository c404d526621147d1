/**
 * A real LiveKit participant that asks the agent one question: it publishes the question as
 * microphone audio, records what agent participants say back, and reports the timings a user
 * feels. Used by `arc talk` and by end-to-end tests and benchmarks.
 */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';

export const TALK_SAMPLE_RATE = 16_000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (TALK_SAMPLE_RATE * FRAME_MS) / 1000;
/** Int16 RMS above which a received frame counts as agent speech (not comfort noise). */
const SPEECH_RMS = 300;

export interface TalkOptions {
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  identity?: string;
  /** wait this long for an agent to subscribe to our microphone before speaking */
  listenerTimeoutMs?: number;
  /** give up waiting for the first agent audio after the question ends */
  answerTimeoutMs?: number;
  /** the answer is over after this much agent silence */
  answerSilenceMs?: number;
}

export interface TalkResult {
  /** agent audio, 16 kHz mono Int16, from its first speech frame to the end of the answer */
  answer: Int16Array;
  /** end of the user's audio → first agent speech frame received (voice-to-voice), ms */
  voiceToVoiceMs: number | undefined;
  questionMs: number;
  answerMs: number;
  /** time until an agent subscribed to our microphone */
  listenerJoinedMs: number | undefined;
}

export class TalkTimeoutError extends Error {
  override readonly name = 'TalkTimeoutError';
}

function frameRms(data: Int16Array): number {
  let sum = 0;
  for (const sample of data) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, data.length));
}

async function mintToken(options: TalkOptions, identity: string): Promise<string> {
  const token = new AccessToken(options.apiKey, options.apiSecret, { identity, ttl: '10m' });
  token.addGrant({ roomJoin: true, room: options.room, canPublish: true, canSubscribe: true });
  return token.toJwt();
}

/** Plays `question` (16 kHz mono Int16) into the room and records the agent's spoken answer. */
export async function askAgent(question: Int16Array, options: TalkOptions): Promise<TalkResult> {
  const identity = options.identity ?? `arc-talk-${Math.random().toString(36).slice(2, 8)}`;
  const room = new Room();
  const recorded: Int16Array[] = [];
  let firstSpeechAt: number | undefined;
  let lastSpeechAt: number | undefined;
  let questionEndedAt: number | undefined;
  const readers: Promise<void>[] = [];

  const record = (track: RemoteTrack, participant: RemoteParticipant) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    void participant;
    const stream = new AudioStream(track, TALK_SAMPLE_RATE, 1);
    readers.push(
      (async () => {
        for await (const frame of stream as unknown as AsyncIterable<AudioFrame>) {
          const now = performance.now();
          const speaking = frameRms(frame.data) >= SPEECH_RMS;
          // Only what follows the question counts as the answer.
          if (questionEndedAt === undefined) continue;
          if (speaking) {
            firstSpeechAt ??= now;
            lastSpeechAt = now;
          }
          if (firstSpeechAt !== undefined) recorded.push(new Int16Array(frame.data));
        }
      })().catch(() => {}),
    );
  };
  room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => record(track, participant));

  const started = performance.now();
  let listenerJoinedAt: number | undefined;
  const listenerJoined = new Promise<void>((resolve) =>
    room.on(RoomEvent.LocalTrackSubscribed, () => {
      listenerJoinedAt ??= performance.now();
      resolve();
    }),
  );
  try {
    await room.connect(options.livekitUrl, await mintToken(options, identity), { autoSubscribe: true, dynacast: false });
    const source = new AudioSource(TALK_SAMPLE_RATE, 1);
    const track = LocalAudioTrack.createAudioTrack('microphone', source);
    const publishOptions = new TrackPublishOptions();
    publishOptions.source = TrackSource.SOURCE_MICROPHONE;
    await room.localParticipant!.publishTrack(track, publishOptions);

    const listenerTimeout = options.listenerTimeoutMs ?? 15_000;
    const joined = await Promise.race([listenerJoined.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), listenerTimeout))]);
    if (!joined) throw new TalkTimeoutError(`no agent subscribed to the microphone within ${listenerTimeout} ms (is the voice worker running and receiving webhooks?)`);

    // A little silence first, as a person draws breath: VAD needs context before speech.
    const silence = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < 300 / FRAME_MS; i++) await source.captureFrame(new AudioFrame(silence, TALK_SAMPLE_RATE, 1, FRAME_SAMPLES));
    for (let offset = 0; offset < question.length; offset += FRAME_SAMPLES) {
      const chunk = new Int16Array(FRAME_SAMPLES);
      chunk.set(question.subarray(offset, offset + FRAME_SAMPLES));
      await source.captureFrame(new AudioFrame(chunk, TALK_SAMPLE_RATE, 1, FRAME_SAMPLES));
    }
    await source.waitForPlayout();
    questionEndedAt = performance.now();

    // Keep the microphone open with silence (a real mic never stops) until the answer ends.
    const answerTimeout = options.answerTimeoutMs ?? 20_000;
    const answerSilence = options.answerSilenceMs ?? 1_500;
    while (true) {
      await source.captureFrame(new AudioFrame(silence, TALK_SAMPLE_RATE, 1, FRAME_SAMPLES));
      const now = performance.now();
      if (firstSpeechAt === undefined && now - questionEndedAt > answerTimeout) break;
      if (lastSpeechAt !== undefined && now - lastSpeechAt > answerSilence) break;
    }
    await track.close();
  } finally {
    await room.disconnect();
  }
  const answer = new Int16Array(recorded.reduce((n, frame) => n + frame.length, 0));
  let at = 0;
  for (const frame of recorded) {
    answer.set(frame, at);
    at += frame.length;
  }
  return {
    answer,
    voiceToVoiceMs: firstSpeechAt !== undefined && questionEndedAt !== undefined ? firstSpeechAt - questionEndedAt : undefined,
    questionMs: (question.length / TALK_SAMPLE_RATE) * 1000,
    answerMs: (answer.length / TALK_SAMPLE_RATE) * 1000,
    listenerJoinedMs: listenerJoinedAt !== undefined ? listenerJoinedAt - started : undefined,
  };
}
