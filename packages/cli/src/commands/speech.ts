import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ModelError } from '@arc/models';
import { DEFAULT_VOICE, SileroVad, SmartTurnDetector, SpeechError, SttEngines, TtsEngines, encodeWav, loadAudio } from '@arc/speech';
import { cliSpeechSettings } from '../config.js';

/** Speech and model errors already name the file/field/value; print them without a stack. */
async function reportErrors(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SpeechError || error instanceof ModelError) {
      process.stderr.write(`arc: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

const ms = (n: number): string => `${n.toFixed(0)} ms`;

export function registerSpeechCommands(program: Command): void {
  program
    .command('stt')
    .description('transcribe a WAV file with Moonshine (any rate/channels; resampled to 16 kHz mono)')
    .argument('<file>', 'WAV file')
    .option('--json', 'print the transcript and timings as JSON')
    .action((file: string, options: { json?: boolean }) =>
      reportErrors(async () => {
        const t0 = performance.now();
        const audio = loadAudio(file);
        const stt = await SttEngines.create({ engine: 'moonshine' }, cliSpeechSettings());
        const loadMs = performance.now() - t0;
        try {
          const result = await stt.transcribe(audio);
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ ...result, loadMs })}\n`);
            return;
          }
          process.stdout.write(`${result.text}\n`);
          const { totalMs, encodeMs, decodeMs } = result.timings;
          process.stderr.write(
            `audio ${(result.audioMs / 1000).toFixed(2)} s · transcribe ${ms(totalMs)} (encode ${ms(encodeMs)}, decode ${ms(decodeMs)}, ${result.tokens} tokens) · model load ${ms(loadMs)}\n`,
          );
        } finally {
          await stt.close();
        }
      }),
    );

  program
    .command('tts')
    .description('synthesize text with a Piper voice into a 16-bit WAV file')
    .argument('<text>', 'text to speak')
    .requiredOption('-o, --output <file>', 'WAV file to write')
    .option('--voice <id>', 'voice id from `arc models list`', DEFAULT_VOICE)
    .action((text: string, options: { output: string; voice: string }) =>
      reportErrors(async () => {
        const t0 = performance.now();
        const voice = await TtsEngines.create({ engine: 'piper', model: options.voice }, cliSpeechSettings());
        const loadMs = performance.now() - t0;
        try {
          const t1 = performance.now();
          let firstMs: number | undefined;
          const chunks: Int16Array[] = [];
          for await (const chunk of voice.stream(text)) {
            firstMs ??= performance.now() - t1;
            chunks.push(chunk.audio);
          }
          const totalMs = performance.now() - t1;
          const audio = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
          let offset = 0;
          for (const c of chunks) {
            audio.set(c, offset);
            offset += c.length;
          }
          writeFileSync(options.output, encodeWav(audio, voice.sampleRate));
          const seconds = audio.length / voice.sampleRate;
          process.stderr.write(
            `wrote ${options.output}: ${seconds.toFixed(2)} s at ${voice.sampleRate} Hz, ${chunks.length} sentence(s) · first audio ${ms(firstMs ?? totalMs)} · total ${ms(totalMs)}` +
              (seconds > 0 ? ` (RTF ${(totalMs / 1000 / seconds).toFixed(3)})` : ' (nothing speakable)') +
              ` · model load ${ms(loadMs)}\n`,
          );
        } finally {
          await voice.close();
        }
      }),
    );

  program
    .command('turn')
    .description('is the turn in a WAV file complete? Smart Turn v3.2 over its last 8 s')
    .argument('<file>', 'WAV file: a turn ending in the pause to judge')
    .option('--threshold <p>', 'complete above this probability', '0.5')
    .action((file: string, options: { threshold: string }) =>
      reportErrors(async () => {
        const audio = loadAudio(file);
        const detector = await SmartTurnDetector.load({ settings: cliSpeechSettings() });
        try {
          const started = performance.now();
          const p = await detector.completeProbability(audio);
          process.stdout.write(`${p > Number(options.threshold) ? 'complete' : 'incomplete'}\t${p.toFixed(4)}\n`);
          process.stderr.write(`${(audio.length / 16000).toFixed(2)} s of audio, judged in ${Math.round(performance.now() - started)} ms\n`);
        } finally {
          await detector.close();
        }
      }),
    );

  program
    .command('vad')
    .description('print the speech segments of a WAV file (Silero VAD v5)')
    .argument('<file>', 'WAV file')
    .option('--threshold <p>', 'speech probability threshold', '0.5')
    .option('--min-silence <ms>', 'silence that ends a segment', '300')
    .option('--min-speech <ms>', 'shortest segment kept', '250')
    .option('--json', 'print segments as JSON')
    .action((file: string, options: { threshold: string; minSilence: string; minSpeech: string; json?: boolean }) =>
      reportErrors(async () => {
        const audio = loadAudio(file);
        const vad = await SileroVad.load({ settings: cliSpeechSettings() });
        try {
          const segments = await vad.segments(audio, {
            threshold: Number(options.threshold),
            minSilenceMs: Number(options.minSilence),
            minSpeechMs: Number(options.minSpeech),
          });
          if (options.json) {
            process.stdout.write(`${JSON.stringify(segments)}\n`);
            return;
          }
          for (const s of segments) process.stdout.write(`${(s.startMs / 1000).toFixed(3)}\t${(s.endMs / 1000).toFixed(3)}\t${((s.endMs - s.startMs) / 1000).toFixed(3)} s\n`);
          process.stderr.write(`${segments.length} segment(s) in ${(audio.length / 16000).toFixed(2)} s of audio\n`);
        } finally {
          await vad.close();
        }
      }),
    );
}
