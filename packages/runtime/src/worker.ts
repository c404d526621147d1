import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { TObject, TProperties, Static } from '@sinclair/typebox';
import { AuditUnavailableError, connectBus, ensureAuditStream, type Bus, type BusSubscription } from '@arc/bus';
import { Subjects, type ConfigChanged, type HealthStatus, type Heartbeat, type Severity } from '@arc/contracts';
import { ConfigError, loadConfig, type CommonConfig } from './config.js';
import { applyConfigChange } from './live-config.js';
import { HeartbeatReporter } from './heartbeat.js';
import { WorkerMetrics } from './prometheus.js';
import { startTracing, stopTracing } from './tracing.js';
import { createLogger, type Logger } from './logger.js';

export interface WorkerContext<C> {
  readonly service: string;
  readonly instanceId: string;
  readonly config: CommonConfig & C;
  readonly bus: Bus;
  readonly logger: Logger;
  /** publishes system.service.error and logs it */
  reportError(errorType: string, message: string, severity?: Severity, extra?: { trace_id?: string; subject?: string }): void;
  /** mark the worker degraded (shown in heartbeats) or healthy again */
  setStatus(status: 'healthy' | 'degraded'): void;
}

export interface WorkerHandle {
  /** release resources; called once on shutdown, before the bus drains */
  stop(): Promise<void>;
  /** sessions / rooms / requests in progress, for heartbeats */
  activeSessions?(): number;
  /** extra heartbeat metrics */
  metrics?(): Partial<Heartbeat['metrics']>;
  /** how full the worker is, 0–1 (heartbeat `load`): called once per heartbeat */
  load?(): number;
  /**
   * Live variables just changed in `config` (system.config.changed, see live-config.ts): rebuild
   * what depends on them. A throw puts the old values back and refuses the change.
   */
  reconfigure?(keys: readonly string[]): void | Promise<void>;
}

export interface WorkerDefinition<P extends TProperties> {
  /** service name on the bus, e.g. arc-sherlock-brain */
  service: string;
  /** environment variables of this worker (TypeBox); the common ones are added */
  config?: TObject<P>;
  /**
   * Checks of configured values beyond their schema (a model the manifest must list), run before
   * anything connects or loads; throw ConfigError (see checkVariable) and the worker exits 2.
   */
  check?(config: CommonConfig & Static<TObject<P>>): void;
  /** variables applied without a restart when a system.config.changed sets them (then `reconfigure`) */
  live?: readonly Extract<keyof Static<TObject<P>>, string>[];
  start(ctx: WorkerContext<Static<TObject<P>>>): Promise<WorkerHandle>;
}

/** The one way to define an ARC worker: name, config, start (which returns stop). */
export function defineWorker<P extends TProperties>(definition: WorkerDefinition<P>): WorkerDefinition<P> {
  return definition;
}

export interface RunningWorker<C> {
  readonly context: WorkerContext<C>;
  /** graceful stop: last heartbeat "stopping", worker stop, bus drain — within the deadline */
  shutdown(reason?: string): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/** Starts a worker in this process (tests use this; runWorker adds signals and exit codes). */
export async function startWorker<P extends TProperties>(
  definition: WorkerDefinition<P>,
  options: StartOptions = {},
): Promise<RunningWorker<Static<TObject<P>>>> {
  const config = loadConfig(definition.config, options.env ?? process.env);
  definition.check?.(config);
  const instanceId = config.INSTANCE_ID ?? `${definition.service}-${randomBytes(3).toString('hex')}`;
  const logger = options.logger ?? createLogger(definition.service, config.LOG_LEVEL, instanceId);
  logger.info({ nats: config.NATS_URL, ...(config.ARC_TENANT ? { tenant: config.ARC_TENANT } : {}) }, 'starting');
  const bus = await connectBus({
    servers: config.NATS_URL,
    service: definition.service,
    instanceId,
    logger,
    ttlMs: config.MESSAGE_TTL_MS,
    ...natsCredentials(config),
  });
  let status: HealthStatus = 'starting';
  let handle: WorkerHandle | undefined;
  const configChanges = { applied: 0, refused: 0 };
  const heartbeat = new HeartbeatReporter({
    service: definition.service,
    bus,
    intervalMs: config.HEARTBEAT_INTERVAL_MS,
    activeSessions: () => handle?.activeSessions?.() ?? 0,
    extraMetrics: () => {
      const load = handle?.load?.();
      return {
        ...(handle?.metrics?.() ?? {}),
        ...(load === undefined ? {} : { load: Math.round(Math.min(1, Math.max(0, load)) * 1000) / 1000 }),
        ...(configChanges.applied + configChanges.refused > 0 ? { config_changes_applied: configChanges.applied, config_changes_refused: configChanges.refused } : {}),
      };
    },
  });
  const context: WorkerContext<Static<TObject<P>>> = {
    service: definition.service,
    instanceId,
    config,
    bus,
    logger,
    reportError(errorType, message, severity = 'error', extra = {}) {
      logger[severity === 'warning' ? 'warn' : 'error']({ error_type: errorType, ...extra }, message);
      try {
        bus.publish('system.service.error', {
          service: definition.service,
          instance_id: instanceId,
          error_type: errorType,
          error_message: message.slice(0, 4096),
          severity,
          action_required: severity === 'critical' ? 'automatic_restart' : 'investigate',
          ...extra,
        });
      } catch (error) {
        logger.error({ err: error }, 'could not publish system.service.error');
      }
    },
    setStatus(next) {
      if (status !== 'stopping') status = next;
    },
  };
  await keepAudit(bus, config, logger);
  if (startTracing(definition.service, instanceId)) logger.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting OpenTelemetry traces');
  heartbeat.publish('starting');
  try {
    handle = await definition.start(context);
  } catch (error) {
    context.reportError('start_failed', `${definition.service} failed to start: ${(error as Error).message}`, 'critical');
    heartbeat.stop();
    await bus.close(1_000);
    throw error;
  }
  const liveConfig = watchConfig(definition, context, () => handle, configChanges);
  raiseEventLoopPriority(logger);
  status = 'healthy';
  heartbeat.publish(status);
  heartbeat.start(() => status);
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await new WorkerMetrics(bus, () => heartbeat.last).serve(config.METRICS_PORT, config.METRICS_HOST);
  if (metricsServer) logger.info({ url: metricsServer.url }, 'serving Prometheus metrics');
  logger.info({ instance_id: instanceId }, 'started');

  let stopping: Promise<void> | undefined;
  return {
    context,
    shutdown(reason = 'shutdown') {
      stopping ??= (async () => {
        status = 'stopping';
        logger.info({ reason }, 'stopping');
        heartbeat.stop();
        heartbeat.publish('stopping');
        const deadline = config.SHUTDOWN_TIMEOUT_MS;
        const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), deadline).unref());
        const stopped = (async () => {
          await metricsServer?.close();
          await liveConfig.unsubscribe();
          await handle?.stop();
          await stopTracing().catch((error: Error) => logger.warn({ err: error }, 'could not send the last spans'));
          await bus.close(deadline);
        })();
        if ((await Promise.race([stopped, timedOut])) === 'timeout') {
          logger.warn({ deadline_ms: deadline }, 'drain deadline passed; closing anyway');
        }
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

/** Applies system.config.changed events in the worker's scope, one at a time, in order. */
function watchConfig<P extends TProperties>(
  definition: WorkerDefinition<P>,
  context: WorkerContext<Static<TObject<P>>>,
  handleOf: () => WorkerHandle | undefined,
  counts: { applied: number; refused: number },
): BusSubscription {
  const { bus, logger, service, instanceId } = context;
  const config = context.config as unknown as Record<string, unknown>;
  let queue = Promise.resolve();
  const options = { service, instanceId, ...(bus.tenant ? { tenant: bus.tenant } : {}), schema: definition.config as TObject<TProperties> | undefined, live: definition.live ?? [], ...(definition.check ? { check: definition.check as (c: object) => void } : {}) };
  const refuse = (change: ConfigChanged, error: ConfigError) => {
    counts.refused++;
    context.reportError('config_refused', `config change ${change.change_id} refused, the old settings stay: ${error.message}`, 'warning', { trace_id: change.trace_id, subject: Subjects.configChanged });
  };
  const apply = async (change: ConfigChanged) => {
    const before = { ...config };
    const outcome = applyConfigChange(config, change, options);
    if (outcome.kind === 'refused') return refuse(change, outcome.error);
    if (outcome.kind !== 'applied') return;
    try {
      await handleOf()?.reconfigure?.(outcome.keys);
    } catch (error) {
      for (const key of outcome.keys) config[key] = before[key];
      const key = outcome.keys[0]!;
      return refuse(change, new ConfigError(key, String(change.changes[key]), `could not be applied: ${(error as Error).message}`));
    }
    counts.applied++;
    logger.info({ change_id: change.change_id, keys: outcome.keys, reason: change.reason }, 'configuration changed');
  };
  return bus.subscribe(Subjects.configChanged, (change) => {
    queue = queue.then(() => apply(change)).catch((error: Error) => logger.error({ err: error, change_id: change.change_id }, 'config change failed'));
  });
}

/**
 * The event loop is the real-time core (NATS, LiveKit events, timers): when the OS allows it, its
 * thread runs above normal priority, so a busy machine delays models and media before it delays
 * a barge-in or a bus hop. Only this thread changes (Linux priorities are per thread); without
 * the privilege (CAP_SYS_NICE) it stays at the normal priority.
 */
function raiseEventLoopPriority(logger: Logger): void {
  try {
    setPriority(process.pid, EVENT_LOOP_NICENESS);
    logger.debug({ niceness: EVENT_LOOP_NICENESS }, 'event loop priority raised');
  } catch {
    logger.debug('event loop priority unchanged (not allowed here)');
  }
}
const EVENT_LOOP_NICENESS = -5;

/** Exit codes: 0 clean stop, 1 crash or failed start, 2 bad configuration. */
export const ExitCodes = { ok: 0, failure: 1, badConfig: 2 } as const;

/** Runs a worker as the process: SIGTERM/SIGINT drain it, crashes are reported, bad config exits 2. */
export async function runWorker<P extends TProperties>(definition: WorkerDefinition<P>): Promise<void> {
  let running: RunningWorker<Static<TObject<P>>>;
  try {
    running = await startWorker(definition);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${definition.service}: ${error.message}\n`);
      process.exit(ExitCodes.badConfig);
    }
    process.stderr.write(`${definition.service}: failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCodes.failure);
  }
  const { logger } = running.context;
  const stop = (signal: string) => {
    void running.shutdown(signal).then(() => process.exit(ExitCodes.ok));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (error) => {
    running.context.reportError('uncaught_exception', error.stack ?? error.message, 'critical');
    logger.fatal({ err: error }, 'uncaught exception; exiting');
    void running.shutdown('crash').finally(() => process.exit(ExitCodes.failure));
  });
  process.on('unhandledRejection', (reason) => {
    running.context.reportError('unhandled_rejection', reason instanceof Error ? (reason.stack ?? reason.message) : String(reason), 'error');
  });
}


/**
 * Every worker keeps the audit stream (ARC_AUDIT) in place with the configured limits, so any
 * deployment whose NATS has JetStream records its conversations; without JetStream it says so once.
 */
async function keepAudit(bus: Bus, config: CommonConfig, logger: Logger): Promise<void> {
  if (!config.ARC_AUDIT) return;
  if (config.ARC_TENANT) {
    // A tenant's credentials allow its own subjects only, not the JetStream API.
    logger.info({ tenant: config.ARC_TENANT }, "a tenant's worker does not keep the audit stream (its credentials allow only the tenant's subjects)");
    return;
  }
  try {
    const state = await ensureAuditStream(bus.natsConnection, { maxAgeMs: config.ARC_AUDIT_MAX_AGE_S * 1_000, maxBytes: config.ARC_AUDIT_MAX_MB * 1024 * 1024, replicas: config.ARC_AUDIT_REPLICAS });
    logger.info({ stream: 'ARC_AUDIT', state, max_age_s: config.ARC_AUDIT_MAX_AGE_S, max_mb: config.ARC_AUDIT_MAX_MB, replicas: config.ARC_AUDIT_REPLICAS }, 'audit stream in place');
  } catch (error) {
    if (error instanceof AuditUnavailableError) logger.info(error.message);
    else logger.warn({ err: error }, 'could not set up the audit stream; events are not kept');
  }
}

/** The bus options for the NATS credentials and tenant in a worker's or command's environment (throws ConfigError). */
export function natsCredentials(config: Pick<CommonConfig, 'NATS_NKEY_FILE' | 'ARC_TENANT'>): { nkeySeed?: Uint8Array; tenant?: string } {
  let nkeySeed: Uint8Array | undefined;
  if (config.NATS_NKEY_FILE) {
    try {
      nkeySeed = new TextEncoder().encode(readFileSync(config.NATS_NKEY_FILE, 'utf8').trim());
    } catch (error) {
      throw new ConfigError('NATS_NKEY_FILE', config.NATS_NKEY_FILE, `cannot be read: ${(error as Error).message}`);
    }
  }
  return { ...(nkeySeed ? { nkeySeed } : {}), ...(config.ARC_TENANT ? { tenant: config.ARC_TENANT } : {}) };
}
