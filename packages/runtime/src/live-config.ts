/**
 * Configuration changed without a restart (seeds 000/003's configuration events): a worker in the
 * scope of a `system.config.changed` checks the new values exactly as at start (its schema, then
 * its `check`), and applies them only if every one passes and every one is a variable it can
 * change live (its `live` list). Otherwise nothing changes: the refusal is a system.service.error
 * (`config_refused`) naming the variable and the value, and the old settings stay.
 */
import type { TObject, TProperties } from '@sinclair/typebox';
import type { ConfigChanged } from '@arc/contracts';
import { CommonConfig, ConfigError, loadConfig } from './config.js';

export type LiveOutcome =
  | { kind: 'ignored' }
  | { kind: 'unchanged' }
  | { kind: 'applied'; keys: string[] }
  | { kind: 'refused'; error: ConfigError };

export interface LiveConfigOptions<C extends object> {
  service: string;
  instanceId: string;
  tenant?: string;
  /** the worker's own variables (the common ones are added) */
  schema: TObject<TProperties> | undefined;
  /** variables this worker applies without a restart */
  live: readonly string[];
  /** the worker's checks beyond the schema (as at start) */
  check?: (config: C) => void;
}

/** Is this worker in the change's scope? */
export function inScope(scope: ConfigChanged['scope'], worker: { service: string; instanceId: string; tenant?: string }): boolean {
  if (scope.service !== undefined && scope.service !== worker.service) return false;
  if (scope.instance_id !== undefined && scope.instance_id !== worker.instanceId) return false;
  // A tenant's changes travel in its own namespace (t.<tenant>.system.config.changed): one that
  // names no tenant there is the tenant's; one that names another tenant is not for this worker.
  return scope.tenant === undefined || scope.tenant === worker.tenant;
}

/**
 * What a change does to `current` (which is updated in place when the change is applied): the
 * variables that change, or why it is refused. Variables of other services are ignored when the
 * change is addressed to every service; addressed to this one, an unknown variable is refused.
 */
export function applyConfigChange<C extends object>(current: C, change: ConfigChanged, options: LiveConfigOptions<C>): LiveOutcome {
  if (!inScope(change.scope, options)) return { kind: 'ignored' };
  const known = new Set([...Object.keys(CommonConfig.properties), ...Object.keys(options.schema?.properties ?? {})]);
  const wanted = Object.entries(change.changes).filter(([key]) => known.has(key) || change.scope.service !== undefined);
  if (wanted.length === 0) return { kind: 'ignored' };
  for (const [key, value] of wanted) {
    if (!known.has(key)) return { kind: 'refused', error: new ConfigError(key, String(value), `is not a variable of ${options.service}`) };
    if (!options.live.includes(key)) return { kind: 'refused', error: new ConfigError(key, String(value), `cannot change while ${options.service} runs (restart it with the new value)`) };
  }
  // The same validation as at start: the whole configuration, as environment variables.
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(current)) if (value !== undefined) env[key] = String(value);
  for (const [key, value] of wanted) env[key] = String(value);
  let next: C;
  try {
    next = loadConfig(options.schema, env) as unknown as C;
    options.check?.(next);
  } catch (error) {
    if (error instanceof ConfigError) return { kind: 'refused', error };
    throw error;
  }
  const record = current as Record<string, unknown>;
  const changed = wanted.map(([key]) => key).filter((key) => (next as Record<string, unknown>)[key] !== record[key]);
  if (changed.length === 0) return { kind: 'unchanged' };
  for (const key of changed) record[key] = (next as Record<string, unknown>)[key];
  return { kind: 'applied', keys: changed };
}
