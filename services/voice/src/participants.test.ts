/** Who is a user: the kind LiveKit reported, ARC's identity prefixes, listener liveness, which of two sessions of one track stays. No servers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParticipantInfo, TrackInfo, TrackSource, TrackType, WebhookEvent } from 'livekit-server-sdk';
import { ParticipantDirectory, ParticipantKind, isMicrophone, userProfile } from './participants.js';
import { VoiceInstances } from './reconcile.js';
import { keepsSession } from './voice-service.js';

// Bodies as livekit-server 1.13.5 sends them: track events name the participant by sid and identity only.
const joinedAgent = WebhookEvent.fromJson(
  { event: 'participant_joined', room: { name: 'r' }, participant: { sid: 'PA_a', identity: 'tts-voice', kind: 'AGENT', state: 'ACTIVE' } },
  { ignoreUnknownFields: true },
);
const agentTrack = WebhookEvent.fromJson(
  { event: 'track_published', room: { name: 'r' }, participant: { sid: 'PA_a', identity: 'tts-voice' }, track: { sid: 'TR_a', source: 'MICROPHONE' } },
  { ignoreUnknownFields: true },
);

test('a track event alone says STANDARD for every participant: the kind comes from participant_joined', async () => {
  assert.equal(Number(agentTrack.participant!.kind), ParticipantKind.standard, 'the trap: the stub decodes as STANDARD');
  const lookups: string[] = [];
  const directory = new ParticipantDirectory({ arcIdentityPrefixes: [], lookup: async (_room, identity) => void lookups.push(identity) as undefined });
  directory.remember('r', joinedAgent.participant!);
  assert.equal(await directory.isUser('r', 'tts-voice'), false);
  assert.deepEqual(lookups, [], 'no lookup when the joined webhook was seen');
});

test('a participant whose joined webhook was missed is looked up in LiveKit once', async () => {
  const lookups: string[] = [];
  const directory = new ParticipantDirectory({
    arcIdentityPrefixes: [],
    lookup: async (_room, identity) => {
      lookups.push(identity);
      return new ParticipantInfo({ identity, sid: 'PA_x', kind: identity === 'caller' ? ParticipantKind.sip : ParticipantKind.agent });
    },
  });
  assert.equal(await directory.isUser('r', 'caller'), true, 'a phone caller (SIP) is a user');
  assert.equal(await directory.isUser('r', 'some-agent'), false);
  assert.equal(await directory.isUser('r', 'some-agent'), false);
  assert.deepEqual(lookups, ['caller', 'some-agent']);
  directory.forget('r', 'caller');
  assert.equal(directory.cached('r', 'caller'), undefined);
});

test("ARC's own identities are never users, even when LiveKit calls them STANDARD or is not asked", async () => {
  const directory = new ParticipantDirectory({
    arcIdentityPrefixes: ['arc-listener-', 'arc-agent'],
    lookup: async () => {
      throw new Error('not asked');
    },
  });
  assert.equal(await directory.isUser('r', 'arc-agent-tts-1'), false);
  assert.equal(await directory.isUser('r', 'arc-listener-voice-1'), false);
  const gone = new ParticipantDirectory({ arcIdentityPrefixes: ['arc-agent'], lookup: async () => undefined });
  assert.equal(await gone.isUser('r', 'alice'), true, 'a participant LiveKit no longer knows counts as a user');
});

test('microphones and profiles', () => {
  assert.equal(isMicrophone(new TrackInfo({ type: TrackType.AUDIO, source: TrackSource.MICROPHONE })), true);
  assert.equal(isMicrophone(new TrackInfo({ type: TrackType.AUDIO, source: TrackSource.SCREEN_SHARE_AUDIO })), false);
  assert.equal(isMicrophone(new TrackInfo({ type: TrackType.VIDEO, source: TrackSource.CAMERA })), false);
  assert.deepEqual(userProfile({ metadata: '{"city":"Paris"}', attributes: { lang: 'fr' } }), { lang: 'fr', city: 'Paris' });
  assert.equal(userProfile({ metadata: 'not json' }), undefined);
});

test('listener liveness: from heartbeats, never our own id, unknown peers live until two beats have passed', () => {
  let now = 0;
  const instances = new VoiceInstances('me', 1_000, () => now);
  assert.equal(instances.isAlive('me'), false, 'a listener with our id and no session is a crash leftover');
  assert.equal(instances.isAlive('stranger'), true, 'too early to tell');
  instances.beat('peer', 1_000, false);
  now = 3_000;
  assert.equal(instances.isAlive('stranger'), false, 'no heartbeat in 2.5 beats: dead');
  assert.equal(instances.isAlive('peer'), false, 'its last beat is 3 s old');
  instances.beat('peer', 1_000, false);
  now = 4_000;
  assert.equal(instances.isAlive('peer'), true);
  instances.beat('peer', 1_000, true);
  assert.equal(instances.isAlive('peer'), false, 'a worker that said "stopping" is gone');
});

test('of two sessions of one track, the one that started first stays; at the same millisecond, the smaller instance id', () => {
  const early = { startedIso: '2026-12-02T10:00:00.100Z', instanceId: 'voice-b' };
  const late = { startedIso: '2026-12-02T10:00:00.250Z', instanceId: 'voice-a' };
  assert.equal(keepsSession(early, late), true);
  assert.equal(keepsSession(late, early), false);
  const tieA = { startedIso: early.startedIso, instanceId: 'voice-a' };
  assert.equal(keepsSession(tieA, early), true);
  assert.equal(keepsSession(early, tieA), false);
});
