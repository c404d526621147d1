#!/usr/bin/env node
// Entry for `npm run models:fetch` (and `arc-models`): fetch | verify | list [ids...].
import { fetchModels, loadManifest, ModelError, verifyModels } from './index.js';

async function main(argv: string[]): Promise<number> {
  const [command = 'fetch', ...ids] = argv;
  if (command === 'list') {
    for (const m of loadManifest().models) {
      const size = m.files.reduce((n, f) => n + f.size, 0);
      console.log(`${m.id.padEnd(26)} ${m.engine.padEnd(11)} ${m.license.padEnd(11)} ${(size / 1e6).toFixed(1).padStart(6)} MB`);
    }
    return 0;
  }
  if (command === 'fetch') {
    const t0 = Date.now();
    await fetchModels(ids);
    console.error(`models ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  }
  if (command === 'verify') return (await verifyModels(ids)).every((r) => r.ok) ? 0 : 1;
  console.error(`usage: arc-models fetch|verify|list [ids...] (got "${command}")`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Our errors already say what and where; anything else is a bug and keeps its stack.
    console.error(err instanceof ModelError ? `error: ${err.message}` : err);
    process.exit(1);
  },
);
