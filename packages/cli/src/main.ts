#!/usr/bin/env node
import { Command } from 'commander';
import { BusError } from '@arc/bus';
import { ConfigError, ExitCodes } from '@arc/runtime';
import { registerAuditCommand } from './commands/audit.js';
import { describeCliError, registerBusCommands } from './commands/bus.js';
import { registerModelCommands } from './commands/models.js';
import { registerSpeechCommands } from './commands/speech.js';
import { registerTalkCommand } from './commands/talk.js';
import { registerTenantCommands } from './commands/tenant.js';
import { registerUpCommand } from './commands/up.js';

const program = new Command();
program.name('arc').description('ARC voice agent pipeline: bus tools, monitor, speech and models').showHelpAfterError();
registerBusCommands(program);
registerSpeechCommands(program);
registerModelCommands(program);
registerUpCommand(program);
registerTalkCommand(program);
registerAuditCommand(program);
registerTenantCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`arc: ${error.message}\n`);
    process.exit(ExitCodes.badConfig);
  }
  const known = describeCliError(error) ?? (error instanceof BusError ? error.message : undefined);
  process.stderr.write(`arc: ${known ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exit(1);
}
