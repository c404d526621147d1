import { join } from 'node:path';
import { REPO_ROOT, startProcess, type ManagedProcess } from '@arc/testkit';

export const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js');
export const FIXTURES = join(REPO_ROOT, 'test', 'dist', 'fixtures');

/** Starts a compiled node script with extra environment; LOG_FORMAT=json keeps logs parseable. */
export function startNode(script: string, args: string[], env: Record<string, string>): ManagedProcess {
  return startProcess(process.execPath, [script, ...args], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env },
  });
}

/** JSON objects printed one per line (non-JSON lines such as logs are skipped). */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}
