/**
 * A real LiveKit participant that talks to the agent: it publishes questions as microphone
 * audio, records what agent participants say back, and reports the timings a user feels.
 * Used by `arc talk` and by end-to-end tests and benchmarks.
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
  type RemoteTrack,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';

export const TALK_SAMPLE_RATE = 16_000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (TALK_SAMPLE_RATE * FRAME_MS) / 1000;
/** Int16 RMS above which a received frame counts as agent speech (not comfort noise). */
const SPEECH_RMS = 300;
/** frames kept from before the first loud one: the answer's first word starts quietly (200 ms) */
const PRE_ROLL_FRAMES = 200 / FRAME_MS;

export interface TalkOptions {
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
  room: string;
  identity?: string;
  /** participant metadata (JSON), e.g. a user profile */
  metadata?: string;
  /**
   * Speak once an agent subscribes to our microphone, or after this long: ARC's listener is a
   * hidden participant, and LiveKit does not tell publishers about hidden subscribers.
   */
  listenerWaitMs?: number;
  /** give up waiting for the first agent audio after the question ends */
  answerTimeoutMs?: number;
  /** the answer is over after this much agent silence */
  answerSilenceMs?: number;
}

export interface AskOptions {
  /** barge-in: speak this while the agent answers… */
  interruptWith?: Int16Array;
  /** …this long after its first speech frame arrived */
  interruptAfterMs?: number;
}

export interface TalkResult {
  /** when the interruption started playing (performance.now()), if one was asked for */
  interruptedAt?: number;
  /** arrival times (performance.now()) of every agent speech frame */
  speechFrameTimes: number[];
  /** agent audio, 16 kHz mono Int16, from its first speech frame to the end of the answer */
  answer: Int16Array;
  /**
   * end of the user's speech → first agent speech frame received (voice-to-voice), ms. The end of
   * speech is the question's last loud frame: quiet after it (synthesized speech ends in a few
   * hundred ms of it) counts as waiting for the agent.
   */
  voiceToVoiceMs: number | undefined;
  /** quiet at the end of the question, before which its speech ended */
  questionQuietTailMs: number;
  questionMs: number;
  answerMs: number;
}

function frameRms(data: Int16Array): number {
  let sum = 0;
  for (const sample of data) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, data.length));
}

/** Quiet at the end of 16 kHz audio: the 20 ms frames after its last loud one. */
export function quietTailMs(audio: Int16Array): number {
  const frame = (TALK_SAMPLE_RATE * FRAME_MS) / 1000;
  let end = audio.length;
  while (end > 0 && frameRms(audio.subarray(Math.max(0, end - frame), end)) < SPEECH_RMS) end -= frame;
  return ((audio.length - Math.max(0, end)) / TALK_SAMPLE_RATE) * 1000;
}

/** One user in a room, for several turns. */
export class Conversation {
  private readonly room = new Room();
  // A short queue keeps the microphone live: what we capture plays within ~100 ms.
  private readonly source = new AudioSource(TALK_SAMPLE_RATE, 1, 100);
  private track: LocalAudioTrack | undefined;
  private recording = false;
  private recorded: Int16Array[] = [];
  private preRoll: Int16Array[] = [];
  private firstSpeechAt: number | undefined;
  private lastSpeechAt: number | undefined;
  private speechFrameTimes: number[] = [];
  private readonly silence = new Int16Array(FRAME_SAMPLES);

  private constructor(private readonly options: TalkOptions) {}

  static async join(options: TalkOptions): Promise<Conversation> {
    const conversation = new Conversation(options);
    await conversation.connect();
    return conversation;
  }

  private async connect(): Promise<void> {
    const token = new AccessToken(this.options.apiKey, this.options.apiSecret, {
      identity: this.options.identity ?? `arc-talk-${Math.random().toString(36).slice(2, 8)}`,
      ttl: '30m',
      ...(this.options.metadata ? { metadata: this.options.metadata } : {}),
    });
    token.addGrant({ roomJoin: true, room: this.options.room, canPublish: true, canSubscribe: true });
    this.room.on(RoomEvent.TrackSubscribed, (track) => this.hear(track));
    const listenerJoined = new Promise<void>((resolve) => this.room.on(RoomEvent.LocalTrackSubscribed, () => resolve()));
    await this.room.connect(this.options.livekitUrl, await token.toJwt(), { autoSubscribe: true, dynacast: false });
    this.track = LocalAudioTrack.createAudioTrack('microphone', this.source);
    const publishOptions = new TrackPublishOptions();
    publishOptions.source = TrackSource.SOURCE_MICROPHONE;
    await this.room.localParticipant!.publishTrack(this.track, publishOptions);
    let waiting = true;
    const waited = Promise.race([listenerJoined, new Promise<void>((resolve) => setTimeout(resolve, this.options.listenerWaitMs ?? 2_500))]).then(
      () => (waiting = false),
    );
    // Silence while the agent joins: a microphone is never mute, and VAD wants context.
    while (waiting) await this.captureSilence();
    await waited;
  }

  private hear(track: RemoteTrack): void {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    void (async () => {
      for await (const frame of new AudioStream(track, { sampleRate: TALK_SAMPLE_RATE, numChannels: 1, frameSizeMs: FRAME_MS }) as unknown as AsyncIterable<AudioFrame>) {
        if (!this.recording) continue; // only what follows a question counts as its answer
        const now = performance.now();
        if (frameRms(frame.data) >= SPEECH_RMS) {
          this.firstSpeechAt ??= now;
          this.lastSpeechAt = now;
          this.speechFrameTimes.push(now);
        }
        if (this.firstSpeechAt !== undefined) this.recorded.push(new Int16Array(frame.data));
        else {
          // The quiet onset of the first word comes before the first frame loud enough to count.
          this.preRoll.push(new Int16Array(frame.data));
          if (this.preRoll.length > PRE_ROLL_FRAMES) this.preRoll.shift();
          continue;
        }
        if (this.preRoll.length > 0) {
          this.recorded.unshift(...this.preRoll);
          this.preRoll = [];
        }
      }
    })().catch(() => {});
  }

  private captureSilence(): Promise<void> {
    return this.source.captureFrame(new AudioFrame(this.silence, TALK_SAMPLE_RATE, 1, FRAME_SAMPLES));
  }

  /** Plays `question` (16 kHz mono Int16) and records the spoken answer. */
  async ask(question: Int16Array, options: AskOptions = {}): Promise<TalkResult> {
    await this.play(question);
    await this.source.waitForPlayout();
    return this.answer(options, (question.length / TALK_SAMPLE_RATE) * 1000, quietTailMs(question));
  }

  /** Says nothing and records what the agent says (a notice, say) within `timeoutMs`. */
  listen(timeoutMs: number): Promise<TalkResult> {
    return this.answer({}, 0, 0, timeoutMs);
  }

  private async answer(options: AskOptions, questionMs: number, questionQuietTailMs: number, answerTimeoutMs = this.options.answerTimeoutMs ?? 20_000): Promise<TalkResult> {
    const questionEndedAt = performance.now();
    this.recorded = [];
    this.preRoll = [];
    this.firstSpeechAt = undefined;
    this.lastSpeechAt = undefined;
    this.speechFrameTimes = [];
    this.recording = true;
    let interruptedAt: number | undefined;
    // Keep the microphone open with silence until the answer ends.
    const answerTimeout = answerTimeoutMs;
    const answerSilence = this.options.answerSilenceMs ?? 1_500;
    while (true) {
      const sinceSpeech = this.firstSpeechAt === undefined ? -1 : performance.now() - this.firstSpeechAt;
      if (options.interruptWith && interruptedAt === undefined && sinceSpeech >= (options.interruptAfterMs ?? 1_000)) {
        interruptedAt = performance.now() + this.source.queuedDuration;
        await this.play(options.interruptWith);
      }
      await this.captureSilence();
      const now = performance.now();
      if (this.firstSpeechAt === undefined && now - questionEndedAt > answerTimeout) break;
      if (this.lastSpeechAt !== undefined && now - this.lastSpeechAt > answerSilence) break;
    }
    this.recording = false;
    const answer = new Int16Array(this.recorded.reduce((n, frame) => n + frame.length, 0));
    let at = 0;
    for (const frame of this.recorded) {
      answer.set(frame, at);
      at += frame.length;
    }
    return {
      ...(interruptedAt === undefined ? {} : { interruptedAt }),
      speechFrameTimes: this.speechFrameTimes,
      answer,
      voiceToVoiceMs: this.firstSpeechAt === undefined ? undefined : this.firstSpeechAt - questionEndedAt + questionQuietTailMs,
      questionQuietTailMs,
      questionMs,
      answerMs: (answer.length / TALK_SAMPLE_RATE) * 1000,
    };
  }

  /** Stays silent for `ms`, as a real microphone does: silence frames, not no frames. */
  async pause(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (performance.now() < until) await this.captureSilence();
  }

  private async play(audio: Int16Array): Promise<void> {
    for (let offset = 0; offset < audio.length; offset += FRAME_SAMPLES) {
      const chunk = new Int16Array(FRAME_SAMPLES);
      chunk.set(audio.subarray(offset, offset + FRAME_SAMPLES));
      await this.source.captureFrame(new AudioFrame(chunk, TALK_SAMPLE_RATE, 1, FRAME_SAMPLES));
    }
  }

  async leave(): Promise<void> {
    await this.track?.close().catch(() => {});
    await this.room.disconnect();
  }
}

/** Joins, asks one question, leaves. */
export async function askAgent(question: Int16Array, options: TalkOptions): Promise<TalkResult> {
  const conversation = await Conversation.join(options);
  try {
    return await conversation.ask(question);
  } finally {
    await conversation.leave();
  }
}
