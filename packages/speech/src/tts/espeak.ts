import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { downmix } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';
import { parseWav } from '../audio/wav.js';
import { PhonemizerError } from '../errors.js';

/** A line that espeak-ng turns into a fixed phoneme string; it marks the end of each answer. */
const SENTINEL_TEXT = 'zqxj zqxj zqxj';
const DEFAULT_TIMEOUT_MS = 5000;

export interface EspeakOptions {
  /** espeak-ng voice, e.g. "en-us" (from the Piper voice config). */
  voice: string;
  /** Binary to run (default "espeak-ng"; workers pass ESPEAK_NG). */
  binary?: string;
  /** A request that takes longer than this kills the process and fails (it is restarted on the next call). */
  timeoutMs?: number;
}

/**
 * IPA phonemes from one long-lived `espeak-ng -q --ipa` process. Starting espeak-ng per sentence
 * costs tens of ms; a resident process answers in about a millisecond. espeak-ng reads stdin line
 * by line and prints one line per clause, so every request is followed by a sentinel line whose
 * known output marks where the answer ends. Requests are serialized.
 */
export class EspeakPhonemizer {
  private child: ChildProcessWithoutNullStreams | undefined;
  private sentinel: string | undefined;
  private lines: string[] = [];
  private waiter: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exitError: Error | undefined;
  private closed = false;

  constructor(readonly options: EspeakOptions) {}

  /** Phonemes of each input line, in order (one string per line; clauses espeak splits are rejoined with a space). */
  phonemize(lines: readonly string[]): Promise<string[]> {
    const run = this.queue.then(() => this.request(lines));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      child.kill();
      await exited;
    }
  }

  private async request(lines: readonly string[]): Promise<string[]> {
    if (this.closed) throw new PhonemizerError('phonemizer is closed');
    await this.start();
    return this.ask(lines.map(clean));
  }

  private async start(): Promise<void> {
    if (this.child && this.child.exitCode === null && !this.exitError) return;
    this.exitError = undefined;
    this.lines = [];
    const binary = this.options.binary ?? 'espeak-ng';
    // -b 1: input is UTF-8; -q: no audio; --ipa: phonemes as IPA on stdout.
    const child = spawn(binary, ['-q', '-b', '1', '--ipa', '-v', this.options.voice], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    child.on('error', (err) => this.fail(new PhonemizerError(`cannot run ${binary}: ${err.message} (install the espeak-ng package)`, { cause: err })));
    child.on('exit', (code, signal) => {
      if (this.child === child && !this.closed) this.fail(new PhonemizerError(`${binary} exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim()}` : ''}`));
    });
    child.stdin.on('error', () => undefined); // a dead process is reported by 'exit'
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    // Learn what the sentinel looks like in this espeak-ng version/voice.
    this.sentinel = undefined;
    child.stdin.write(`${SENTINEL_TEXT}\n`);
    const first = await this.collect(() => this.lines.length > 0);
    this.sentinel = first.shift();
    if (this.sentinel === undefined || this.sentinel.trim() === '') throw new PhonemizerError(`${binary} -v ${this.options.voice} gave no phonemes for a test line${stderr ? `: ${stderr.trim()}` : ''}`);
  }

  /** All lines in one write, each followed by the sentinel: one round trip per request, not per line. */
  private async ask(lines: string[]): Promise<string[]> {
    if (lines.length === 0) return [];
    const child = this.child as ChildProcessWithoutNullStreams;
    const sentinel = this.sentinel as string;
    child.stdin.write(lines.map((l) => `${l}\n${SENTINEL_TEXT}\n`).join(''));
    const got = await this.collect(() => this.lines.filter((l) => l === sentinel).length >= lines.length);
    const results: string[] = [];
    let current: string[] = [];
    for (const line of got) {
      if (line === sentinel) {
        results.push(current.join(' '));
        current = [];
      } else if (line.trim() !== '') current.push(line.trim());
    }
    return results.slice(0, lines.length);
  }

  /** Waits until `done()` holds for the buffered lines, then takes them all. */
  private async collect(done: () => boolean): Promise<string[]> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.exitError) throw this.exitError;
      const left = deadline - Date.now();
      if (left <= 0) {
        const child = this.child;
        this.child = undefined;
        child?.kill('SIGKILL');
        throw new PhonemizerError(`espeak-ng did not answer within ${timeoutMs} ms; restarting it on the next request`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    const taken = this.lines;
    this.lines = [];
    return taken;
  }

  private fail(err: Error): void {
    this.exitError = err;
    this.waiter?.();
  }
}

/** One request must stay one line; control characters could confuse espeak-ng's input reader. */
function clean(text: string): string {
  // The sentinel word is removed too, so text can never fake the end of an answer.
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/zqxj/gi, ' ').trim();
}

export interface EspeakSpeechOptions {
  /** espeak-ng voice (default "en-us") */
  voice?: string;
  /** words per minute (espeak-ng -s; default 160) */
  wordsPerMinute?: number;
  /** output rate (default 16 kHz, what STT and `arc talk` use) */
  sampleRate?: number;
  /** binary to run (default "espeak-ng"; the CLI passes ESPEAK_NG) */
  binary?: string;
}

/**
 * Text spoken by espeak-ng, mono float audio: a voice unlike the agent's Piper voice, so the
 * user's side of a conversation is easy to tell apart (`arc talk --say`, tests, benchmarks).
 */
export function espeakSpeech(text: string, options: EspeakSpeechOptions = {}): Float32Array {
  const binary = options.binary ?? 'espeak-ng';
  const result = spawnSync(binary, ['-v', options.voice ?? 'en-us', '-s', String(options.wordsPerMinute ?? 160), '--stdout', text], { maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new PhonemizerError(`cannot run ${binary}: ${result.error.message} (install the espeak-ng package)`, { cause: result.error });
  if (result.status !== 0) throw new PhonemizerError(`${binary} exited with code ${result.status}: ${result.stderr.toString().trim()}`);
  const wav = parseWav(result.stdout, `${binary} --stdout`);
  return resample(downmix(wav.samples, wav.channels), wav.sampleRate, options.sampleRate ?? 16_000);
}
