export { defineWorker, startWorker, runWorker, ExitCodes } from './worker.js';
export type { WorkerContext, WorkerDefinition, WorkerHandle, RunningWorker, StartOptions } from './worker.js';
export { loadConfig, describeConfig, checkVariable, CommonConfig, ConfigError } from './config.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { HeartbeatReporter } from './heartbeat.js';
export { Type } from '@sinclair/typebox';
export type { Static } from '@sinclair/typebox';
export { WorkerMetrics, observeStage, numericFigures, type MetricsServer } from './prometheus.js';
