import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProcess } from './process.js';

test('waiting for output ends as soon as the process exits, with what it printed', async () => {
  // A server that cannot bind exits at once; the wait must say so then, not at its timeout.
  const server = startProcess(process.execPath, ['-e', "console.error('listen tcp 127.0.0.1:4222: bind: address already in use'); process.exit(1)"]);
  const startedAt = performance.now();
  await assert.rejects(server.waitForOutput(/Server is ready/, 10_000), /exited before printing \/Server is ready\/;[\s\S]*address already in use/);
  assert.ok(performance.now() - startedAt < 5_000, 'rejected when the process exited');
});
