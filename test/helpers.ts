import { join } from 'node:path';
import { REPO_ROOT, startProcess, startScriptedOpenAIServer, startWorkerProcess, type ManagedProcess, type NatsServerHandle, type ScriptedOpenAIServer } from '@arc/testkit';

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

/** A brain worker answering from the scripted OpenAI-compatible server (the one fake: a paid API). */
export async function startScriptedBrain(
  nats: NatsServerHandle,
  env: Record<string, string> = {},
): Promise<{ brain: ManagedProcess; model: ScriptedOpenAIServer; stop(): Promise<void> }> {
  const model = await startScriptedOpenAIServer();
  const brain = startWorkerProcess('brain', { nats }, { OPENAI_BASE_URL: model.url, ...env });
  await brain.waitForOutput(/brain ready/, 60_000);
  return {
    brain,
    model,
    async stop() {
      await brain.stop(5000);
      await model.close();
    },
  };
}
