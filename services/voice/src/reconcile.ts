/**
 * Self-healing: a session for every user microphone that nobody listens to.
 *
 * LiveKit sends each webhook once. A voice worker that restarted never hears of the tracks
 * published before, and a session whose listener was disconnected leaves its user talking to no
 * one. Reconciling asks LiveKit's room API which rooms have a user's microphone published and no
 * live ARC listener, and reports them so a session can start for each.
 *
 * A listener is the hidden participant `<VOICE_IDENTITY>-<instance id>`. It is live while its
 * voice worker sends heartbeats (the monitor's rule: down after two missed beats). A worker that
 * has been up for less than two beats cannot tell a silent peer from a dead one yet, and leaves
 * that room alone until it can.
 */
import type { ParticipantInfo, RoomServiceClient, TrackInfo } from 'livekit-server-sdk';
import type { Logger } from '@arc/runtime';
import { isMicrophone, type ParticipantDirectory } from './participants.js';

const MISSED_BEATS = 2.5;

/** Which voice worker instances are alive, from their heartbeats. */
export class VoiceInstances {
  private readonly lastBeat = new Map<string, { at: number; intervalMs: number }>();
  private readonly startedAt: number;

  constructor(
    private readonly self: string,
    private readonly ownIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  beat(instanceId: string, intervalMs: number | undefined, stopping: boolean): void {
    if (stopping) this.lastBeat.delete(instanceId);
    else this.lastBeat.set(instanceId, { at: this.now(), intervalMs: intervalMs ?? this.ownIntervalMs });
  }

  /** The one live voice worker with the smallest instance id (dispatches what nobody listens to). */
  isLeader(): boolean {
    return ![...this.lastBeat.keys()].some((id) => id < this.self && this.isAlive(id));
  }

  /** Our own instance holds no listener without a session, so a listener with our id is a leftover of a crash. */
  isAlive(instanceId: string): boolean {
    if (instanceId === this.self) return false;
    const beat = this.lastBeat.get(instanceId);
    if (beat) return this.now() - beat.at <= beat.intervalMs * MISSED_BEATS;
    return this.now() - this.startedAt < this.ownIntervalMs * MISSED_BEATS; // too early to tell
  }
}

export interface UnheardMicrophone {
  room: { name: string; sid: string };
  participant: ParticipantInfo;
  track: TrackInfo;
}

export interface ReconcileOptions {
  roomService: Pick<RoomServiceClient, 'listRooms' | 'listParticipants'>;
  directory: ParticipantDirectory;
  /** `${VOICE_IDENTITY}-`: the identity prefix of every voice worker's listener */
  listenerPrefix: string;
  instances: VoiceInstances;
  /** rooms this worker already has a session in */
  hasSession: (room: string) => boolean;
  logger: Logger;
}

/** Rooms with a user's microphone published and no live listener (one user per room: the first found). */
export async function findUnheardMicrophones(options: ReconcileOptions): Promise<UnheardMicrophone[]> {
  const found: UnheardMicrophone[] = [];
  for (const room of await options.roomService.listRooms()) {
    if (options.hasSession(room.name)) continue;
    const participants = await options.roomService.listParticipants(room.name);
    const listened = participants.some(
      (p) => p.identity.startsWith(options.listenerPrefix) && options.instances.isAlive(p.identity.slice(options.listenerPrefix.length)),
    );
    if (listened) continue;
    for (const participant of participants) {
      options.directory.remember(room.name, participant);
      if (!(await options.directory.isUser(room.name, participant.identity))) continue;
      const track = participant.tracks.find(isMicrophone);
      if (track) {
        found.push({ room: { name: room.name, sid: room.sid }, participant, track });
        break;
      }
    }
  }
  return found;
}
