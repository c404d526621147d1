import type { Command } from 'commander';
import { natsCredentials } from '@arc/runtime';
import { connectBus, conversationFilter, readAudit, type AuditEvent } from '@arc/bus';
import { tenantSubject } from '@arc/contracts';
import { cliConfig } from '../config.js';
import { CliError } from './bus.js';

/** "10m" → 600000: a duration of s, m, h or d. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new CliError(`--since "${text}": expected a duration such as 30s, 10m, 2h or 1d`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** One line per event: time, subject, and what it says. */
export function describeEvent(event: AuditEvent): string {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  const said = p.user_input ?? p.text ?? p.transcript ?? p.error_message ?? p.reason ?? p.event ?? p.status ?? '';
  const id = p.request_id ?? p.session_id ?? p.room_name ?? p.service ?? '';
  const time = new Date(event.storedAtMs).toISOString().slice(11, 23);
  return `${time}  ${event.subject.padEnd(34)} ${String(id).padEnd(22)} ${typeof said === 'string' ? said.slice(0, 100) : JSON.stringify(said)}`;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('print events kept by the audit stream (ARC_AUDIT), in order: one conversation, one trace, or everything recent')
    .option('--session <id>', 'the events of this session, and of every turn (trace) it started')
    .option('--trace <id>', 'the events of one trace')
    .option('--since <duration>', 'only events of the last 30s, 10m, 2h, 1d…')
    .option('--tenant <id>', "only this tenant's events (subjects t.<id>.…)")
    .option('--json', 'one JSON object per line: seq, subject, stored_at, payload')
    .option('-s, --server <url>', 'NATS URL (default $NATS_URL or nats://127.0.0.1:4222)')
    .action(async (options: { session?: string; trace?: string; since?: string; tenant?: string; json?: boolean; server?: string }) => {
      const sinceMs = options.since ? Date.now() - parseDuration(options.since) : undefined;
      // The audit stream is the operator's: read it with the operator's NATS user, not a tenant's.
      const { nkeySeed } = natsCredentials(cliConfig());
      const bus = await connectBus({ servers: options.server ?? cliConfig().NATS_URL, service: 'arc-cli', connectTimeoutMs: 5_000, ...(nkeySeed ? { nkeySeed } : {}) });
      try {
        const inConversation = options.session || options.trace ? conversationFilter({ sessionId: options.session, traceId: options.trace }) : () => true;
        const namespace = options.tenant === undefined ? undefined : `${tenantSubject(options.tenant, '')}`;
        const wanted = (event: AuditEvent) => (namespace === undefined || event.subject.startsWith(namespace)) && inConversation(event);
        let printed = 0;
        for await (const event of readAudit(bus.natsConnection, { sinceMs })) {
          if (!wanted(event)) continue;
          printed++;
          process.stdout.write(
            options.json
              ? `${JSON.stringify({ seq: event.seq, subject: event.subject, stored_at: new Date(event.storedAtMs).toISOString(), payload: event.payload })}\n`
              : `${describeEvent(event)}\n`,
          );
        }
        if (!options.json) process.stderr.write(`${printed} events\n`);
      } finally {
        await bus.close(1_000);
      }
    });
}
