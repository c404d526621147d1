import { runWorker } from '@arc/runtime';
import { ttsWorker } from './worker.js';

await runWorker(ttsWorker);
