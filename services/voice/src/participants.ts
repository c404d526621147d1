/**
 * Who is who in a room: is a track the user's microphone, or one of ARC's own participants?
 *
 * LiveKit's `track_published`/`track_unpublished` webhooks carry only the participant's sid and
 * identity — no kind, metadata or attributes (measured on livekit-server 1.13.5) — so a kind read
 * from them is always the protobuf default, STANDARD, and the agent's own track looked like a
 * user's. The kind comes from the room's `participant_joined` webhook instead, or from LiveKit's
 * room API when that webhook was missed (a voice worker restarted). The identity prefixes of ARC's
 * participants (the TTS agent, the hidden listener) are a second guard that needs no lookup.
 */
import { TrackSource, TrackType, type ParticipantInfo, type TrackInfo } from 'livekit-server-sdk';

/** LiveKit's ParticipantInfo.Kind (livekit_models.proto); the server SDK does not export the enum. */
export const ParticipantKind = { standard: 0, ingress: 1, egress: 2, sip: 3, agent: 4 } as const;
/** People: browser/app clients, phone callers (SIP) and streamed-in media (ingress). Agents and recorders are not. */
const USER_KINDS: ReadonlySet<number> = new Set([ParticipantKind.standard, ParticipantKind.ingress, ParticipantKind.sip]);

export interface KnownParticipant {
  identity: string;
  sid: string;
  kind: number;
  metadata?: string;
  attributes?: Record<string, string>;
}

/** Asks LiveKit about a participant; undefined when it is not (or no longer) in the room. */
export type ParticipantLookup = (room: string, identity: string) => Promise<ParticipantInfo | undefined>;

export interface ParticipantDirectoryOptions {
  /** identities starting with one of these are ARC's own participants, whatever their kind */
  arcIdentityPrefixes: readonly string[];
  lookup: ParticipantLookup;
}

function known(info: ParticipantInfo): KnownParticipant {
  return {
    identity: info.identity,
    sid: info.sid,
    kind: Number(info.kind),
    ...(info.metadata ? { metadata: info.metadata } : {}),
    ...(info.attributes && Object.keys(info.attributes).length > 0 ? { attributes: { ...info.attributes } } : {}),
  };
}

/** The participants of the rooms this worker hears about, as LiveKit reported them. */
export class ParticipantDirectory {
  private readonly rooms = new Map<string, Map<string, KnownParticipant>>();

  constructor(private readonly options: ParticipantDirectoryOptions) {}

  isArcIdentity(identity: string): boolean {
    return this.options.arcIdentityPrefixes.some((prefix) => identity.startsWith(prefix));
  }

  /** From `participant_joined` (and the room API): the one place a participant's kind is reported. */
  remember(room: string, info: ParticipantInfo): KnownParticipant {
    const participant = known(info);
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Map()));
    members.set(participant.identity, participant);
    return participant;
  }

  forget(room: string, identity: string): void {
    const members = this.rooms.get(room);
    members?.delete(identity);
    if (members?.size === 0) this.rooms.delete(room);
  }

  forgetRoom(room: string): void {
    this.rooms.delete(room);
  }

  /** What the webhooks (or an earlier lookup) said of a participant, without asking LiveKit. */
  cached(room: string, identity: string): KnownParticipant | undefined {
    return this.rooms.get(room)?.get(identity);
  }

  /** The participant as LiveKit knows it: the joined webhook first, the room API when it was missed. */
  async describe(room: string, identity: string): Promise<KnownParticipant | undefined> {
    const cached = this.cached(room, identity);
    if (cached) return cached;
    const info = await this.options.lookup(room, identity);
    return info ? this.remember(room, info) : undefined;
  }

  /**
   * Is this participant a person the agent talks to? ARC's own identities never are; otherwise
   * its kind decides. A participant LiveKit no longer knows (it left between webhook and lookup)
   * counts as a user unless its identity is ARC's.
   */
  async isUser(room: string, identity: string): Promise<boolean> {
    if (this.isArcIdentity(identity)) return false;
    const participant = await this.describe(room, identity);
    return participant === undefined || isUserKind(participant.kind);
  }
}

export function isUserKind(kind: number): boolean {
  return USER_KINDS.has(kind);
}

/** An audio track from a microphone (or of unstated source, as older clients publish). */
export function isMicrophone(track: Pick<TrackInfo, 'type' | 'source'>): boolean {
  return Number(track.type) === TrackType.AUDIO && (track.source === TrackSource.MICROPHONE || track.source === TrackSource.UNKNOWN);
}

/** Participant metadata (JSON object) and attributes, merged into the user profile of brain requests. */
export function userProfile(participant: Pick<KnownParticipant, 'metadata' | 'attributes'> | undefined): Record<string, unknown> | undefined {
  if (!participant) return undefined;
  const profile: Record<string, unknown> = { ...(participant.attributes ?? {}) };
  if (participant.metadata) {
    try {
      const parsed: unknown = JSON.parse(participant.metadata);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(profile, parsed);
    } catch {
      // metadata that is not JSON is not a profile
    }
  }
  return Object.keys(profile).length > 0 ? profile : undefined;
}
