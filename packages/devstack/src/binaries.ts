import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (packages/devstack/dist → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where scripts/install-livekit.sh caches the Go-built livekit-server (git-ignored). */
export const TOOLS_BIN = join(REPO_ROOT, '.tools', 'bin');

export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    readonly installHint: string,
  ) {
    super(`${binary} not found on PATH, in /usr/sbin or in ${TOOLS_BIN}; install it with: ${installHint}`);
  }
}

const INSTALL_HINTS: Record<string, string> = {
  'nats-server': 'bash scripts/install-system.sh (Debian package nats-server)',
  'livekit-server': 'bash scripts/install-livekit.sh',
  prometheus: 'bash scripts/install-system.sh (Debian package prometheus)',
  jaeger: 'bash scripts/install-jaeger.sh',
  nats: 'bash scripts/install-natscli.sh',
  'redis-server': 'bash scripts/install-system.sh (Debian package redis-server)',
};

/** Absolute path of an executable: PATH first, then /usr/sbin (Debian's nats-server), then .tools/bin. */
export function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', TOOLS_BIN];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new MissingBinaryError(name, INSTALL_HINTS[name] ?? `install ${name}`);
}
