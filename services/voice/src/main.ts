import { runWorker } from '@arc/runtime';
import { voiceWorker } from './worker.js';

await runWorker(voiceWorker);
