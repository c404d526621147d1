import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1 (the OS picks; we release it immediately). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** everything written to stdout and stderr so far */
  output(): string;
  /** resolves when a line matching `pattern` has been printed */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** Spawns a process whose output is collected for assertions and diagnostics. */
export function startProcess(command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  // Set before the waiters wake, so a wait for output ends as soon as the process has exited.
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      for (const wake of waiters) wake();
      resolve(code ?? (signal ? 128 : null));
    });
    child.on('error', (error) => {
      output += `\n[spawn error] ${error.message}`;
      exitedFlag = true;
      for (const wake of waiters) wake();
      resolve(null);
    });
  });

  return {
    child,
    exited,
    output: () => output,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            cleanup();
            resolve(match[0]);
          } else if (exitedFlag) {
            cleanup();
            reject(new Error(`${command} exited before printing ${pattern}; output:\n${output.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 5_000) {
      if (exitedFlag || child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      // Clear the grace timer as soon as the child exits: a pending timer keeps a test file alive.
      const result = await Promise.race([exited, grace]).finally(() => clearTimeout(timer));
      if (result === 'timeout') {
        child.kill('SIGKILL');
        return exited;
      }
      return result;
    },
  };
}

/** Polls `probe` until it resolves truthy. */
export async function waitFor<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition', intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
