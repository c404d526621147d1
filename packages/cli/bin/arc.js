#!/usr/bin/env node
// The `arc` command. This file is committed (dist/ is built after `npm ci`) because npm links a
// workspace's bin only if its target exists at install time.
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/main.js')) {
    process.stderr.write('arc: not built yet; run `npm run build` (or `npm start`) in the ARC checkout first\n');
    process.exit(1);
  }
  throw error;
}
