/**
 * docker-compose.yml as Debian's Compose resolves it (no Docker engine runs here): the services,
 * LiveKit's webhooks going to the voice worker, and the GPU override. LiveKit's embedded
 * configuration is also loaded by a real livekit-server, so a typo in it fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, findBinary, freePort, startProcess, waitFor } from '@arc/testkit';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
  depends_on?: Record<string, unknown> | string[];
}

function resolved(...files: string[]): { services: Record<string, ComposeService> } {
  const args = files.flatMap((file) => ['-f', join(REPO_ROOT, file)]);
  // Variables the user may set are unset here: the file's defaults apply.
  const { LIVEKIT_API_KEY: _key, LIVEKIT_API_SECRET: _secret, ...env } = process.env;
  return parse(execFileSync('docker-compose', [...args, 'config'], { env, encoding: 'utf8' })) as { services: Record<string, ComposeService> };
}

test('docker-compose.yml: the services, webhooks to the voice worker, no GPU needed', () => {
  const { services } = resolved('docker-compose.yml');
  assert.deepEqual(Object.keys(services).sort(), ['brain', 'livekit', 'llm', 'nats', 'tts', 'voice']);
  const livekit = parse(services.livekit!.environment!.LIVEKIT_CONFIG!) as { webhook: { api_key: string; urls: string[] }; keys: Record<string, string> };
  const voice = services.voice!.environment!;
  assert.deepEqual(livekit.webhook.urls, [`http://voice:${voice.VOICE_HTTP_PORT}/livekit/webhook`]);
  assert.equal(voice.VOICE_HTTP_HOST, '0.0.0.0', 'the voice worker listens beyond its own container');
  assert.equal(livekit.webhook.api_key, voice.LIVEKIT_API_KEY, 'webhooks are signed with the key the voice worker verifies');
  assert.equal(livekit.keys[voice.LIVEKIT_API_KEY!], voice.LIVEKIT_API_SECRET);
  for (const name of ['brain', 'tts', 'voice']) assert.equal(services[name]!.environment!.NATS_URL, 'nats://nats:4222');
  assert.ok(services.nats!.command?.includes('-js'), `nats runs JetStream for the audit stream: ${JSON.stringify(services.nats!.command)}`);
  for (const name of ['tts', 'voice']) {
    assert.equal(services[name]!.deploy, undefined, `${name} reserves no GPU, so a CPU-only host can run it`);
    assert.equal(services[name]!.environment!.ORT_PROVIDERS, 'cpu');
  }
});

test('docker-compose.gpu.yml adds NVIDIA reservations and CUDA for tts and voice only', () => {
  const { services } = resolved('docker-compose.yml', 'docker-compose.gpu.yml');
  for (const name of ['tts', 'voice']) {
    const devices = services[name]!.deploy?.resources?.reservations?.devices ?? [];
    assert.deepEqual(devices.map((d) => [d.driver, d.capabilities]), [['nvidia', ['gpu']]]);
    assert.equal(services[name]!.environment!.ORT_PROVIDERS, 'cuda,cpu');
  }
  assert.equal(services.brain!.deploy, undefined);
});

test("livekit-server loads the compose file's LiveKit configuration", { timeout: 30_000 }, async () => {
  const { services } = resolved('docker-compose.yml');
  const port = await freePort();
  const config = services.livekit!.environment!.LIVEKIT_CONFIG!.replace('port: 7880', `port: ${port}`)
    .replace('tcp_port: 7881', `tcp_port: ${await freePort()}`)
    .replace('udp_port: 7882', `udp_port: ${await freePort()}`)
    .replace('"0.0.0.0"', '"127.0.0.1"');
  const server = startProcess(findBinary('livekit-server'), [], { env: { ...process.env, LIVEKIT_CONFIG: config } });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}`).catch(() => undefined))?.ok, 20_000, 'livekit-server up');
    assert.equal(server.child.exitCode, null, server.output());
  } finally {
    await server.stop(5_000);
  }
});
