import type { Command } from 'commander';
import { dispose } from '@livekit/rtc-node';
import { SttEngines, espeakSpeech, float32ToInt16, int16ToFloat32, loadAudio, writeWav } from '@arc/speech';
import { cliConfig, cliSpeechSettings } from '../config.js';
import { TALK_SAMPLE_RATE, askAgent } from '../talk/conversation.js';
import { CliError } from './bus.js';

/** Speech for --say: espeak-ng, a voice unlike the agent's, so the two are easy to tell apart. */
function synthesizeQuestion(text: string): Float32Array {
  try {
    return espeakSpeech(text, { sampleRate: TALK_SAMPLE_RATE, binary: cliConfig().ESPEAK_NG });
  } catch (error) {
    throw new CliError(`could not synthesize the question with espeak-ng: ${(error as Error).message}`);
  }
}

export function registerTalkCommand(program: Command): void {
  program
    .command('talk')
    .description('ask the agent one question in a LiveKit room, as a real participant; prints its answer and timings')
    .requiredOption('-r, --room <name>', 'room to talk in')
    .option('--wav <file>', 'the question as a WAV file (any rate/channels)')
    .option('--say <text>', 'the question as text (spoken with espeak-ng)')
    .option('-o, --out <file>', 'save the agent answer as a WAV file')
    .option('--livekit-url <url>', 'LiveKit URL (default $LIVEKIT_URL or the npm start stack)')
    .option('--timeout-ms <ms>', 'wait this long for the answer to start', (v) => Number.parseInt(v, 10), 20_000)
    .option('--json', 'print the result as JSON')
    .action(async (options: { room: string; wav?: string; say?: string; out?: string; livekitUrl?: string; timeoutMs: number; json?: boolean }) => {
      if (!options.wav === !options.say) throw new CliError('give exactly one of --wav <file> or --say <text>');
      const question = float32ToInt16(options.wav ? loadAudio(options.wav, TALK_SAMPLE_RATE) : synthesizeQuestion(options.say!));
      try {
        const result = await askAgent(question, {
          livekitUrl: options.livekitUrl ?? cliConfig().LIVEKIT_URL,
          apiKey: cliConfig().LIVEKIT_API_KEY,
          apiSecret: cliConfig().LIVEKIT_API_SECRET,
          room: options.room,
          answerTimeoutMs: options.timeoutMs,
        });
        if (options.out) writeWav(options.out, result.answer, TALK_SAMPLE_RATE);
        let transcript = '';
        if (result.answer.length > 0) {
          const stt = await SttEngines.create({ engine: 'moonshine' }, cliSpeechSettings());
          transcript = (await stt.transcribe(int16ToFloat32(result.answer))).text;
        }
        const summary = {
          room: options.room,
          transcript,
          voice_to_voice_ms: result.voiceToVoiceMs === undefined ? null : Math.round(result.voiceToVoiceMs),
          question_ms: Math.round(result.questionMs),
          answer_ms: Math.round(result.answerMs),
          ...(options.out ? { saved: options.out } : {}),
        };
        if (options.json) console.log(JSON.stringify(summary));
        else if (result.answer.length === 0) console.log(`no answer heard within ${options.timeoutMs} ms`);
        else {
          console.log(`agent: ${transcript}`);
          console.log(`voice-to-voice ${summary.voice_to_voice_ms} ms · question ${summary.question_ms} ms · answer ${summary.answer_ms} ms${options.out ? ` · saved ${options.out}` : ''}`);
        }
        if (result.answer.length === 0) process.exitCode = 1;
      } finally {
        await dispose();
      }
    });
}
