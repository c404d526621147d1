import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineChoiceError, ModelFilesMissingError, SpeechError } from '../errors.js';
import { DEFAULT_SPEECH_SETTINGS } from '../settings.js';
import { SttEngines } from './factory.js';
import { logMelSpectrogram, WhisperOnnxStt, whisperFiles } from './whisper.js';

const createStt = (choice: Parameters<typeof SttEngines.create>[0]) => SttEngines.create(choice, DEFAULT_SPEECH_SETTINGS);

test('a Whisper directory without the model files names every missing file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'arc-whisper-'));
  try {
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'config.json'), '{}');
    await assert.rejects(WhisperOnnxStt.load({ dir }), (e: unknown) => {
      assert.ok(e instanceof ModelFilesMissingError);
      assert.deepEqual(e.missing, whisperFiles().filter((f) => f !== 'config.json'));
      assert.match(e.message, /onnx\/encoder_model\.onnx/);
      return true;
    });
    await assert.rejects(createStt({ engine: 'whisper', model: dir }), ModelFilesMissingError);
    await assert.rejects(createStt({ engine: 'whisper', model: join(dir, 'nope') }), (e: unknown) => e instanceof EngineChoiceError && e.field === 'model');
    await assert.rejects(createStt({ engine: 'whisper' }), (e: unknown) => e instanceof EngineChoiceError && /is required/.test(e.message));
    await assert.rejects(createStt({ engine: 'vosk' } as never), (e: unknown) => e instanceof EngineChoiceError && e instanceof SpeechError && /known: moonshine, whisper/.test(e.message));
    await assert.rejects(createStt({ engine: 'moonshine', model: 'piper-en_US-joe-medium' }), /is not a moonshine model of models\/manifest.json \(moonshine-base-en\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log-mel features have Whisper shape and range; a tone lands in its mel band', () => {
  const tone = new Float32Array(16000).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
  const mel = logMelSpectrogram(tone, 80);
  assert.equal(mel.length, 80 * 3000);
  let max = -Infinity;
  let min = Infinity;
  for (const v of mel) {
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  assert.ok(max - min <= 2 + 1e-6, 'values span at most 8 dB / 4');
  // Frame 50 (0.5 s): the loudest band is the one around 1 kHz (Slaney mel ≈ band 25–30 of 80).
  let best = 0;
  for (let m = 0; m < 80; m++) if ((mel[m * 3000 + 50] as number) > (mel[best * 3000 + 50] as number)) best = m;
  assert.ok(best >= 20 && best <= 32, `loudest band ${best}`);
});
