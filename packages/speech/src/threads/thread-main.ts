/**
 * An inference thread: it loads its pool's engines (ORT sessions live here, not on the main
 * thread), then runs one task at a time as the pool sends them. Nothing here touches NATS,
 * LiveKit or timers of the worker: the main thread keeps the I/O.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SttEngines } from '../stt/factory.js';
import type { SttEngine } from '../stt/types.js';
import { TtsEngines } from '../tts/factory.js';
import type { TtsEngine } from '../tts/types.js';
import { SMART_TURN_SAMPLE_RATE, SmartTurnDetector } from '../turn/smart-turn.js';
import { VadEngines } from '../vad/factory.js';
import type { VadEngine, VadSegmenter } from '../vad/types.js';
import type { FromThread, TaskRequest, ThreadErrorInfo, ThreadStart, ToThread } from './protocol.js';

const port = parentPort!;
const start = workerData as ThreadStart;
let vad: VadEngine | undefined;
let stt: SttEngine | undefined;
let turn: SmartTurnDetector | undefined;
const voices = new Map<string, TtsEngine>();
const vadStreams = new Map<number, VadSegmenter>();

const errorInfo = (error: unknown): ThreadErrorInfo => ({ name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) });
const post = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function run(task: TaskRequest): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  switch (task.op) {
    case 'vad.open':
      vadStreams.set(task.stream, vad!.stream(task.options));
      return { value: null };
    case 'vad.push':
      return { value: await vadStreams.get(task.stream)!.push(task.audio) };
    case 'vad.flush':
      return { value: await vadStreams.get(task.stream)!.flush() };
    case 'vad.close':
      vadStreams.delete(task.stream);
      return { value: null };
    case 'stt.transcribe':
      return { value: await stt!.transcribe(task.audio, task.options) };
    case 'turn.judge':
      return { value: await turn!.completeProbability(task.audio) };
    case 'tts.unit': {
      const chunk = await voices.get(task.voice)!.unit(task.unit, task.options);
      return { value: chunk ?? null, transfer: chunk ? [chunk.audio.buffer as ArrayBuffer] : [] };
    }
  }
}

/**
 * Inference yields to every event loop on the machine: this thread (and the ORT threads it starts
 * after this, which inherit it) runs at a lower priority, so NATS, LiveKit and timers of all
 * workers keep their latency when the cores are busy with models. Linux only; elsewhere a no-op.
 */
function lowerPriority(niceness: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // no /proc/thread-self, or not allowed: run at the normal priority
  }
}

async function load(): Promise<void> {
  const { engines, settings } = start;
  lowerPriority(start.niceness);
  if (engines.vad) vad = await VadEngines.create(engines.vad, settings);
  if (engines.stt) stt = await SttEngines.create(engines.stt, settings);
  if (engines.turn) {
    turn = await SmartTurnDetector.load({ model: engines.turn.model, settings });
    await turn.completeProbability(new Float32Array(SMART_TURN_SAMPLE_RATE)); // warm-up: the first run is the slow one
  }
  for (const choice of engines.tts ?? []) {
    const voice = await TtsEngines.create(choice, settings);
    voices.set(voice.id, voice);
  }
  post({
    type: 'ready',
    ready: {
      ...(vad ? { vad: { name: vad.name } } : {}),
      ...(stt ? { stt: { name: stt.name } } : {}),
      ...(turn ? { turn: { name: turn.name } } : {}),
      ...(voices.size ? { tts: [...voices.values()].map((v) => ({ id: v.id, sampleRate: v.sampleRate })) } : {}),
    },
  });
}

port.on('message', (message: ToThread | 'close') => {
  if (message === 'close') {
    void Promise.allSettled([vad?.close(), stt?.close(), turn?.close(), ...[...voices.values()].map((v) => v.close())]).then(() => process.exit(0));
    return;
  }
  run(message.task).then(
    ({ value, transfer }) => post({ type: 'result', id: message.id, ok: true, value }, transfer),
    (error: unknown) => post({ type: 'result', id: message.id, ok: false, error: errorInfo(error) }),
  );
});

load().catch((error: unknown) => post({ type: 'failed', error: errorInfo(error) }));
