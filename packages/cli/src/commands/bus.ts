import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AuditUnavailableError, connectBus, type Bus } from '@arc/bus';
import {
  InvalidSubjectError,
  KNOWN_SUBJECTS,
  PayloadValidationError,
  Wildcards,
  assertValidSubject,
  isKnownSubject,
  newTraceId,
  type Heartbeat,
  type KnownSubject,
  type PublishInput,
} from '@arc/contracts';
import { natsCredentials } from '@arc/runtime';
import { cliConfig } from '../config.js';
import { MonitorState } from '../monitor/state.js';
import { renderEvent, renderScreen } from '../monitor/render.js';

export class CliError extends Error {
  override readonly name = 'CliError';
}

const natsUrl = (options: { server?: string }) => options.server ?? cliConfig().NATS_URL;

function openBus(options: { server?: string }): Promise<Bus> {
  // NATS_USER/NATS_PASSWORD and ARC_TENANT as for workers: a tenant's commands see its namespace only.
  return connectBus({ servers: natsUrl(options), service: 'arc-cli', connectTimeoutMs: 5_000, ...natsCredentials(cliConfig()) });
}

function readPayloadArgument(argument: string): string {
  if (argument === '-') return readFileSync(0, 'utf8');
  if (argument.startsWith('@')) return readFileSync(argument.slice(1), 'utf8');
  return argument;
}

export function registerBusCommands(program: Command): void {
  program
    .command('pub')
    .description('publish one event; the payload is validated against the subject schema unless --raw')
    .argument('<subject>', `one of: ${KNOWN_SUBJECTS.join(', ')}`)
    .argument('<payload>', 'JSON text, @file.json, or - for stdin')
    .option('-s, --server <url>', 'NATS URL (default $NATS_URL or nats://127.0.0.1:4222)')
    .option('--raw', 'send the bytes as they are, without validation (for testing consumers)')
    .action(async (subject: string, payloadArgument: string, options: { server?: string; raw?: boolean }) => {
      const text = readPayloadArgument(payloadArgument);
      assertValidSubject(subject);
      let publish: (bus: Bus) => string;
      if (options.raw) {
        publish = (bus) => (bus.publishRaw(subject, text), `published ${Buffer.byteLength(text)} raw bytes to ${subject}`);
      } else {
        if (!isKnownSubject(subject)) {
          throw new CliError(`unknown subject "${subject}"; known subjects: ${KNOWN_SUBJECTS.join(', ')} (use --raw to send anyway)`);
        }
        let payload: unknown;
        try {
          payload = JSON.parse(text);
        } catch (error) {
          throw new CliError(`payload is not JSON: ${(error as Error).message}`);
        }
        publish = (bus) => {
          const { payload: sent } = bus.publish(subject as KnownSubject, payload as PublishInput<KnownSubject>);
          return `published to ${subject}: ${JSON.stringify(sent)}`;
        };
      }
      const bus = await openBus(options);
      try {
        const message = publish(bus);
        await bus.flush();
        console.log(message);
      } finally {
        await bus.close(1_000);
      }
    });

  program
    .command('config')
    .description('change configuration variables of running workers without a restart (system.config.changed); refusals are printed')
    .argument('<assignments...>', 'KEY=VALUE pairs, e.g. BRAIN_SYSTEM_PROMPT="Answer in one sentence." VOICE_TURN_THRESHOLD=0.6')
    .option('--service <name>', 'only workers of this service (e.g. arc-sherlock-brain); default: every service')
    .option('--instance <id>', 'only this worker instance')
    .option('--reason <text>', 'why, for the workers\' logs')
    .option('--wait-ms <ms>', 'how long to wait for refusals', (v) => Number.parseInt(v, 10), 1_500)
    .option('-s, --server <url>', 'NATS URL (default $NATS_URL or nats://127.0.0.1:4222)')
    .action(async (assignments: string[], options: { service?: string; instance?: string; reason?: string; waitMs: number; server?: string }) => {
      const changes: Record<string, string> = {};
      for (const assignment of assignments) {
        const at = assignment.indexOf('=');
        if (at < 1) throw new CliError(`"${assignment}" is not KEY=VALUE`);
        changes[assignment.slice(0, at)] = assignment.slice(at + 1);
      }
      const bus = await openBus(options);
      try {
        const refusals: string[] = [];
        const traceId = newTraceId();
        const errors = bus.subscribe('system.service.error', (error) => {
          if (error.trace_id === traceId && error.error_type === 'config_refused') refusals.push(`${error.instance_id ?? error.service}: ${error.error_message}`);
        });
        await bus.flush();
        const { payload } = bus.publish('system.config.changed', {
          trace_id: traceId,
          change_id: `change-${Date.now().toString(36)}`,
          scope: { ...(options.service ? { service: options.service } : {}), ...(options.instance ? { instance_id: options.instance } : {}) },
          changes,
          ...(options.reason ? { reason: options.reason } : {}),
        });
        await bus.flush();
        await new Promise((resolve) => setTimeout(resolve, options.waitMs));
        await errors.unsubscribe();
        console.log(`sent ${payload.change_id}: ${Object.keys(changes).join(', ')}`);
        for (const refusal of refusals) console.log(`refused by ${refusal}`);
        if (refusals.length > 0) process.exitCode = 1;
      } finally {
        await bus.close(1_000);
      }
    });

  program
    .command('sub')
    .description('print validated events, one per line (invalid ones are counted and reported on stderr)')
    .argument('<subject>', `subject or wildcard, e.g. ${Object.values(Wildcards).join(', ')}`)
    .option('-s, --server <url>', 'NATS URL')
    .option('--json', 'print {"subject", "payload"} JSON lines')
    .option('-n, --count <n>', 'exit after n events', (value) => Number.parseInt(value, 10))
    .action(async (pattern: string, options: { server?: string; json?: boolean; count?: number }) => {
      assertValidSubject(pattern, { wildcards: true });
      const bus = await openBus(options);
      let seen = 0;
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => (finish = resolve));
      bus.subscribe(
        pattern,
        (payload, meta) => {
          const line = options.json
            ? JSON.stringify({ subject: meta.subject, payload })
            : `${new Date().toISOString().slice(11, 23)} ${meta.subject} ${JSON.stringify(payload)}`;
          process.stdout.write(`${line}\n`);
          if (options.count && ++seen >= options.count) finish();
        },
        { deadLetter: false },
      );
      await bus.flush();
      process.stderr.write(`listening on ${pattern} at ${natsUrl(options)}${bus.tenant ? ` (tenant ${bus.tenant}: t.${bus.tenant}.${pattern} on the wire)` : ''}\n`);
      process.once('SIGINT', finish);
      process.once('SIGTERM', finish);
      await done;
      const { invalid, stale } = bus.snapshot();
      if (invalid + stale > 0) process.stderr.write(`ignored ${invalid} invalid and ${stale} stale messages\n`);
      await bus.close(1_000);
    });

  program
    .command('monitor')
    .description('live view of services (heartbeats) and recent errors (*.*.error, system.service.error, dlq.>)')
    .option('-s, --server <url>', 'NATS URL')
    .option('--json', 'print one JSON event per change instead of a screen')
    .option('--interval-ms <ms>', 'heartbeat interval assumed when a heartbeat does not state it', (v) => Number.parseInt(v, 10), 30_000)
    .action(async (options: { server?: string; json?: boolean; intervalMs: number }) => {
      const bus = await openBus(options);
      const state = new MonitorState(options.intervalMs);
      const screen = process.stdout.isTTY && !options.json;
      const emit = (events: ReturnType<MonitorState['tick']>) => {
        if (screen) return;
        for (const event of events) process.stdout.write(`${options.json ? JSON.stringify({ at: new Date().toISOString(), ...event }) : renderEvent(event)}\n`);
      };
      bus.subscribe('system.health.heartbeat', (beat) => emit(state.heartbeat(beat as Heartbeat)), { deadLetter: false });
      for (const pattern of [Wildcards.agentErrors, Wildcards.deadLetters]) {
        bus.subscribe(pattern, (payload, meta) => emit(state.error(meta.subject, payload as Record<string, unknown>)), { deadLetter: false });
      }
      await bus.flush();
      if (!screen) process.stderr.write(`monitoring ${natsUrl(options)}\n`);
      const ticker = setInterval(() => {
        emit(state.tick());
        if (screen) process.stdout.write(`\x1b[H\x1b[2J${renderScreen(state)}\n`);
      }, screen ? 1_000 : 100);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(ticker);
      await bus.close(1_000);
    });
}

export function describeCliError(error: unknown): string | undefined {
  if (error instanceof CliError || error instanceof InvalidSubjectError || error instanceof PayloadValidationError || error instanceof AuditUnavailableError) return error.message;
  return undefined;
}
