/**
 * LiveKit in: the voice worker's hidden participant in a user's room. It subscribes to the user's
 * microphone track (that one track sid) and hands its audio on as 16 kHz mono frames, in order,
 * one at a time. It reports when the user leaves and when the listener itself is disconnected.
 *
 * When the LiveKit node that holds the room is lost, the listener's signalling (through another
 * node) reconnects into a new, empty room of the same name: the user seems to leave while the
 * listener is reconnecting. That is reported as the node lost, not as the user leaving.
 */
import { AudioStream, DisconnectReason, Room, RoomEvent, TrackKind, type AudioFrame, type RemoteTrack } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import type { Logger } from '@arc/runtime';

export interface RoomListenerOptions {
  livekit: { url: string; apiKey: string; apiSecret: string };
  /** the listener's own identity (`<VOICE_IDENTITY>-<instance id>`) */
  identity: string;
  roomName: string;
  userIdentity: string;
  trackSid: string;
  sampleRate: number;
  logger: Logger;
}

export interface RoomListenerEvents {
  /** one frame of the user's audio; the next waits until this resolves */
  onAudio(frame: Int16Array): Promise<void>;
  /** `nodeLost` when the user vanished while the listener was reconnecting (the room's node was lost) */
  onUserLeft(nodeLost: boolean): void;
  /** the listener was disconnected; `roomClosed` when because the room was deleted */
  onDisconnected(roomClosed: boolean): void;
}

export class RoomListener {
  private readonly room = new Room();
  private closed = false;
  private reconnecting = false;

  private constructor(
    private readonly options: RoomListenerOptions,
    private readonly events: RoomListenerEvents,
  ) {}

  static async join(options: RoomListenerOptions, events: RoomListenerEvents): Promise<RoomListener> {
    const listener = new RoomListener(options, events);
    await listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const { livekit, identity, roomName, userIdentity, trackSid } = this.options;
    const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity: identity.slice(0, 128), ttl: '24h' });
    token.kind = 'agent';
    token.addGrant({ roomJoin: true, room: roomName, hidden: true, canSubscribe: true, canPublish: false, canPublishData: false });
    this.room.on(RoomEvent.TrackSubscribed, (track, publication, participant) => {
      if (participant.identity === userIdentity && track.kind === TrackKind.KIND_AUDIO && publication.sid === trackSid) void this.listen(track);
    });
    this.room.on(RoomEvent.ParticipantDisconnected, (participant) => {
      if (participant.identity === userIdentity) this.events.onUserLeft(this.reconnecting);
    });
    this.room.on(RoomEvent.Reconnecting, () => {
      this.reconnecting = true;
      this.options.logger.warn({ room: roomName }, 'LiveKit connection lost; reconnecting');
    });
    this.room.on(RoomEvent.Reconnected, () => {
      this.reconnecting = false;
      this.options.logger.info({ room: roomName }, 'reconnected to LiveKit');
    });
    this.room.on(RoomEvent.Disconnected, (reason) => {
      if (!this.closed) this.events.onDisconnected(reason === DisconnectReason.ROOM_DELETED);
    });
    await this.room.connect(livekit.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  }

  private async listen(track: RemoteTrack): Promise<void> {
    if (this.closed) return;
    try {
      // 32 ms frames, one VAD window each: a third of the events of LiveKit's default 10 ms frames.
      // A listener closed while the track was being subscribed has a disposed track: this throws.
      const stream = new AudioStream(track, { sampleRate: this.options.sampleRate, numChannels: 1, frameSizeMs: 32 });
      this.options.logger.info({ room: this.options.roomName, track_sid: this.options.trackSid }, 'listening to the user');
      for await (const frame of stream as unknown as AsyncIterable<AudioFrame>) {
        if (this.closed) break;
        await this.events.onAudio(new Int16Array(frame.data));
      }
    } catch (error) {
      if (!this.closed) this.options.logger.warn({ err: error, room: this.options.roomName }, 'audio stream failed');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.room.disconnect().catch(() => {});
  }
}
