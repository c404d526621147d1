/** The webhook endpoint on its own (no LiveKit): oversized bodies are refused with a 413 the client receives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { silentLogger } from '@arc/testkit';
import { startWebhookServer } from './webhook.js';

function post(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (headers['expect']) req.on('continue', () => req.end(body));
    else req.end(body);
  });
}

test('bodies over 1 MB get a 413 that reaches the client, declared, streamed or asked about first; nothing is handled', async (t) => {
  const events: unknown[] = [];
  const rejected: string[] = [];
  const { server, url } = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    apiKey: 'devkey',
    apiSecret: 'secret-secret-secret-secret-secret-32',
    logger: silentLogger,
    onEvent: (event) => events.push(event),
    onRejected: (reason) => rejected.push(reason),
    health: () => ({ status: 'ok' }),
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const hook = `${url}/livekit/webhook`;
  const big = Buffer.alloc(2 * 1024 * 1024, 'a');
  const declared = await post(hook, big, { 'content-type': 'application/webhook+json', 'content-length': String(big.length) });
  assert.equal(declared.status, 413);
  assert.match(declared.text, /body over 1048576 bytes/);
  const streamed = await post(hook, big, { 'content-type': 'application/webhook+json', 'transfer-encoding': 'chunked' });
  assert.equal(streamed.status, 413);
  const asked = await post(hook, big, { 'content-type': 'application/webhook+json', 'content-length': String(big.length), expect: '100-continue' });
  assert.equal(asked.status, 413);
  const small = await post(hook, Buffer.from('{}'), { 'content-type': 'application/webhook+json', expect: '100-continue', 'content-length': '2' });
  assert.equal(small.status, 401, 'a small body asked about first is read, and refused for its missing signature');
  assert.equal(events.length, 0);
  assert.equal(rejected.length, 1);
});
