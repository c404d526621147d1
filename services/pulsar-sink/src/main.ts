#!/usr/bin/env node
import { runWorker } from '@arc/runtime';
import { pulsarSinkWorker } from './worker.js';

await runWorker(pulsarSinkWorker);
