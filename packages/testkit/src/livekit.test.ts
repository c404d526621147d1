import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { Room, RoomEvent, dispose } from '@livekit/rtc-node';
import { startLiveKitServer, waitFor } from './index.js';

test('smoke: Go-built livekit-server accepts an rtc-node participant with an SDK-minted token', { timeout: 60_000 }, async (t) => {
  const server = await startLiveKitServer();
  t.after(() => server.stop());
  const token = new AccessToken(server.apiKey, server.apiSecret, { identity: 'smoke-user', ttl: '5m' });
  token.addGrant({ roomJoin: true, room: 'smoke-room', canPublish: true, canSubscribe: true });
  const room = new Room();
  const joined: string[] = [];
  room.on(RoomEvent.Connected, () => joined.push('connected'));
  await room.connect(server.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  assert.equal(room.isConnected, true);
  assert.equal(room.localParticipant?.identity, 'smoke-user');

  const rooms = new RoomServiceClient(server.httpUrl, server.apiKey, server.apiSecret);
  const participants = await waitFor(async () => {
    const list = await rooms.listParticipants('smoke-room');
    return list.length === 1 ? list : undefined;
  }, 10_000, 'participant listed by the server');
  assert.equal(participants[0]!.identity, 'smoke-user');

  await room.disconnect();
  await dispose();
});
