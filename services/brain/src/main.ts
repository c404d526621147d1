#!/usr/bin/env node
import { runWorker } from '@arc/runtime';
import { brainWorker } from './worker.js';

await runWorker(brainWorker);
