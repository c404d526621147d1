/**
 * The agent's voice in one LiveKit room: one participant, one audio track reused across turns,
 * and a queue so answers play in the order they were asked for. Synthesis streams sentence by
 * sentence into the AudioSource; cancel (barge-in) aborts synthesis and clears queued audio.
 */
import { AudioFrame, AudioSource, LocalAudioTrack, Room, RoomEvent, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { float32ToInt16, int16ToFloat32, resample, type TtsEngine } from '@arc/speech';
import type { Logger } from '@arc/runtime';

/** Audio goes to LiveKit in 50 ms frames: fewer calls into the native side than 10–20 ms frames, same latency (the source queues 400 ms). */
const FRAME_MS = 50;

export interface SpeakJob {
  requestId: string;
  text: string;
  voice: TtsEngine;
  receivedAt: number;
}

export interface SpeakOutcome {
  status: 'completed' | 'cancelled';
  /** audio captured, ms */
  durationMs: number;
  /** request received → first frame captured, ms (undefined if none) */
  firstAudioMs: number | undefined;
  /** request received → last frame captured, ms */
  synthesisMs: number;
  /** cancelled: audio that had played to the room before the cut, ms */
  playedMs?: number;
  /** cancelled: the words of the text heard before the cut */
  heardText?: string;
}

/** One speaking unit's audio within a request: where it starts in the request's audio, how long it is. */
export interface PlayedUnit {
  text: string;
  startMs: number;
  durationMs: number;
}

/**
 * The words heard of a request cut after `playedMs` of its audio: every unit that played out, and
 * of the unit that was playing the share of its words that its played share of audio holds
 * (words take roughly even time within a sentence).
 */
export function heardText(units: readonly PlayedUnit[], playedMs: number): string {
  const heard: string[] = [];
  for (const unit of units) {
    if (playedMs >= unit.startMs + unit.durationMs) heard.push(unit.text.trim());
    else if (playedMs > unit.startMs && unit.durationMs > 0) {
      const words = unit.text.trim().split(/\s+/);
      const count = Math.floor((words.length * (playedMs - unit.startMs)) / unit.durationMs);
      if (count > 0) heard.push(words.slice(0, count).join(' '));
      break;
    } else break;
  }
  return heard.filter(Boolean).join(' ');
}

interface Playing {
  job: SpeakJob;
  abort: AbortController;
  units: PlayedUnit[];
  capturedMs: number;
  /** set by a cancel: what had played by then */
  playedMs?: number;
}

/** A request whose audio is all captured and still playing out of the source's queue. */
interface PlayingOut {
  job: SpeakJob;
  units: PlayedUnit[];
  outcome: SpeakOutcome;
  endsAt: number;
  timer: NodeJS.Timeout;
  resolve: (outcome: SpeakOutcome) => void;
}

export interface RoomSpeakerOptions {
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
  identity: string;
  roomName: string;
  sampleRate: number;
  /** the first audio waits this long at most for someone to subscribe to the agent track */
  listenerWaitMs: number;
  logger: Logger;
  onClosed: (reason: string) => void;
}

export class RoomSpeaker {
  readonly roomName: string;
  readonly sampleRate: number;
  private readonly room = new Room();
  private readonly source: AudioSource;
  private track: LocalAudioTrack | undefined;
  private trackSid = '';
  private queue: { job: SpeakJob; resolve: (outcome: SpeakOutcome) => void }[] = [];
  private current: Playing | undefined;
  private readonly playingOut = new Set<PlayingOut>();
  private running = false;
  private closed = false;
  /** resolves once someone in the room subscribes to the agent track */
  private subscribed: Promise<void> = Promise.resolve();
  private listenerWaited = false;
  lastActivity = Date.now();

  private constructor(private readonly options: RoomSpeakerOptions) {
    this.roomName = options.roomName;
    this.sampleRate = options.sampleRate;
    // 400 ms of queued audio: enough to ride over synthesis jitter, little to flush on barge-in.
    this.source = new AudioSource(options.sampleRate, 1, 400);
  }

  static async join(options: RoomSpeakerOptions): Promise<RoomSpeaker> {
    const speaker = new RoomSpeaker(options);
    await speaker.connect();
    return speaker;
  }

  get audioTrackSid(): string {
    return this.trackSid;
  }

  get busy(): boolean {
    return this.running || this.queue.length > 0 || this.playingOut.size > 0;
  }

  private async connect(): Promise<void> {
    const token = new AccessToken(this.options.apiKey, this.options.apiSecret, { identity: this.options.identity, name: 'ARC agent', ttl: '24h' });
    token.kind = 'agent';
    token.addGrant({ roomJoin: true, room: this.roomName, canPublish: true, canSubscribe: false });
    this.room.on(RoomEvent.Disconnected, (reason) => void this.close(`disconnected (${String(reason)})`));
    this.subscribed = new Promise((resolve) => this.room.once(RoomEvent.LocalTrackSubscribed, () => resolve()));
    await this.room.connect(this.options.livekitUrl, await token.toJwt(), { autoSubscribe: false, dynacast: false });
    this.track = LocalAudioTrack.createAudioTrack('agent-voice', this.source);
    const publishOptions = new TrackPublishOptions();
    publishOptions.source = TrackSource.SOURCE_MICROPHONE;
    const publication = await this.room.localParticipant!.publishTrack(this.track, publishOptions);
    this.trackSid = publication.sid ?? '';
    this.options.logger.info({ room: this.roomName, track_sid: this.trackSid }, 'joined room and published the agent track');
  }

  /** Queues a job; resolves when its audio has played out to the room (or it is cancelled). */
  speak(job: SpeakJob): Promise<SpeakOutcome> {
    this.lastActivity = Date.now();
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      void this.run();
    });
  }

  /** Barge-in: stop one request, or everything queued and playing in the room. Returns the ids stopped. */
  cancel(requestId?: string): string[] {
    const stopped: string[] = [];
    const keep: typeof this.queue = [];
    for (const entry of this.queue) {
      if (requestId && entry.job.requestId !== requestId) keep.push(entry);
      else {
        stopped.push(entry.job.requestId);
        entry.resolve({ status: 'cancelled', durationMs: 0, firstAudioMs: undefined, synthesisMs: 0, playedMs: 0, heardText: '' });
      }
    }
    this.queue = keep;
    // What is queued in the source has not been heard: of the request capturing now, its last
    // part; of those before it, their tails still playing out.
    const current = this.current;
    if (current && (!requestId || current.job.requestId === requestId)) {
      stopped.push(current.job.requestId);
      current.playedMs = Math.max(0, current.capturedMs - this.source.queuedDuration);
      current.abort.abort();
    }
    const now = performance.now();
    for (const out of this.playingOut) {
      if (requestId && out.job.requestId !== requestId) continue;
      stopped.push(out.job.requestId);
      clearTimeout(out.timer);
      this.playingOut.delete(out);
      const playedMs = Math.max(0, out.outcome.durationMs - Math.max(0, out.endsAt - now));
      out.resolve({ ...out.outcome, status: 'cancelled', playedMs, heardText: heardText(out.units, playedMs) });
    }
    if (stopped.length > 0 || !requestId) this.source.clearQueue();
    return stopped;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const { job, resolve } = this.queue.shift()!;
        const { outcome, units, playoutRemainingMs } = await this.play(job);
        this.lastActivity = Date.now();
        if (playoutRemainingMs <= 0 || outcome.status === 'cancelled') {
          resolve(outcome);
          continue;
        }
        // The next request is captured behind this one's tail while it plays out.
        const out: PlayingOut = {
          job,
          units,
          outcome,
          endsAt: performance.now() + playoutRemainingMs,
          resolve,
          timer: setTimeout(() => {
            this.playingOut.delete(out);
            this.lastActivity = Date.now();
            resolve(outcome);
          }, playoutRemainingMs),
        };
        this.playingOut.add(out);
      }
    } finally {
      this.running = false;
    }
  }

  private async play(job: SpeakJob): Promise<{ outcome: SpeakOutcome; units: PlayedUnit[]; playoutRemainingMs: number }> {
    const playing: Playing = { job, abort: new AbortController(), units: [], capturedMs: 0 };
    const { signal } = playing.abort;
    this.current = playing;
    const frameSamples = (this.sampleRate * FRAME_MS) / 1000;
    let captured = 0;
    let firstAudioAt: number | undefined;
    try {
      for await (const chunk of job.voice.stream(job.text, { signal, sampleRate: this.sampleRate, shortFirstChunk: true })) {
        if (signal.aborted) break;
        this.options.logger.debug({ request_id: job.requestId, sentence: chunk.index, synthesized_at: Date.now() }, 'sentence synthesized');
        const pcm =
          chunk.sampleRate === this.sampleRate ? chunk.audio : float32ToInt16(resample(int16ToFloat32(chunk.audio), chunk.sampleRate, this.sampleRate));
        playing.units.push({ text: chunk.text, startMs: (captured / this.sampleRate) * 1000, durationMs: (pcm.length / this.sampleRate) * 1000 });
        for (let offset = 0; offset < pcm.length && !signal.aborted; offset += frameSamples) {
          const frame = new Int16Array(frameSamples);
          frame.set(pcm.subarray(offset, offset + frameSamples));
          if (!this.listenerWaited) await this.waitForListener(signal);
          await this.source.captureFrame(new AudioFrame(frame, this.sampleRate, 1, frameSamples));
          firstAudioAt ??= performance.now();
          captured += frameSamples;
          playing.capturedMs = (captured / this.sampleRate) * 1000;
        }
      }
    } finally {
      this.current = undefined;
    }
    const cancelled = signal.aborted;
    if (cancelled) this.source.clearQueue();
    const playedMs = playing.playedMs ?? 0;
    const outcome: SpeakOutcome = {
      status: cancelled ? 'cancelled' : 'completed',
      durationMs: (captured / this.sampleRate) * 1000,
      firstAudioMs: firstAudioAt === undefined ? undefined : firstAudioAt - job.receivedAt,
      synthesisMs: performance.now() - job.receivedAt,
      ...(cancelled ? { playedMs, heardText: heardText(playing.units, playedMs) } : {}),
    };
    return { outcome, units: playing.units, playoutRemainingMs: cancelled ? 0 : this.source.queuedDuration };
  }

  /**
   * Audio published before anyone subscribes is lost: a newly joined agent holds its first frame
   * until the user's subscription to its track is up (a few hundred ms), or listenerWaitMs.
   */
  private async waitForListener(signal: AbortSignal): Promise<void> {
    this.listenerWaited = true;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.subscribed.then(() => 'subscribed' as const),
      new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), this.options.listenerWaitMs))),
      new Promise<'cancelled'>((resolve) => signal.addEventListener('abort', () => resolve('cancelled'), { once: true })),
    ]);
    clearTimeout(timer);
    const waitedMs = Math.round(performance.now() - started);
    if (outcome === 'timed out') this.options.logger.warn({ room: this.roomName, waited_ms: waitedMs }, 'nobody subscribed to the agent track: speaking anyway');
    else this.options.logger.debug({ room: this.roomName, waited_ms: waitedMs, outcome }, 'first audio: listener ready');
  }

  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancel();
    this.options.onClosed(reason);
    try {
      await this.track?.close();
      await this.source.close();
      await this.room.disconnect();
    } catch (error) {
      this.options.logger.warn({ err: error, room: this.roomName }, 'error while leaving room');
    }
    this.options.logger.info({ room: this.roomName, reason }, 'left room');
  }
}
