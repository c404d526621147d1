import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { TENANT_ID_PATTERN } from '@arc/contracts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    readonly reason: string,
  ) {
    super(`environment variable ${variable}${value === undefined ? '' : `=${JSON.stringify(value)}`} ${reason}`);
  }
}

/** NATS server URL list: "nats://host:port" or a comma-separated list of them. */
const NATS_URLS = '^(nats|tls|ws|wss)://[^\\s,/]+(:\\d+)?(,\\s*(nats|tls|ws|wss)://[^\\s,/]+(:\\d+)?)*$';

/** Variables every worker reads. */
export const CommonConfig = Type.Object({
  NATS_URL: Type.String({ pattern: NATS_URLS, default: 'nats://127.0.0.1:4222', description: 'NATS server URL(s), comma-separated' }),
  HEARTBEAT_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000, description: 'system.health.heartbeat period' }),
  MESSAGE_TTL_MS: Type.Integer({ minimum: 1, maximum: 86_400_000, default: 60_000, description: 'messages older than this are dropped' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000, description: 'drain deadline on SIGTERM/SIGINT' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info', description: 'pino log level' },
  ),
  INSTANCE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'process instance id (default: service-random)' })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535, description: 'serve Prometheus /metrics on this port (0: any free port, logged); unset: no metrics server' })),
  METRICS_HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address /metrics listens on (0.0.0.0 to be scraped from other hosts)' }),
  NATS_NKEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'file holding the NATS user nkey seed (SU…) to connect with: a tenant\'s or the operator\'s, as written by arc tenant add' })),
  ARC_TENANT: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN, description: 'tenant id: every subject is sent under t.<tenant>. and replies use the _INBOX_<tenant> inbox prefix (connect with the tenant\'s NATS_NKEY_FILE)' })),
  ARC_AUDIT: Type.Boolean({ default: true, description: 'keep the ARC_AUDIT JetStream stream (agent.>, system.>, dlq.>) when the NATS server has JetStream' }),
  ARC_AUDIT_MAX_AGE_S: Type.Integer({ minimum: 60, maximum: 31_536_000, default: 604_800, description: 'audit events older than this are discarded (default 7 days)' }),
  ARC_AUDIT_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'copies of the audit stream on a NATS cluster (1 on a single server; 3 survives the loss of a node)' }),
  ARC_AUDIT_MAX_MB: Type.Integer({ minimum: 1, maximum: 1_048_576, default: 1024, description: 'the audit keeps at most this many MiB, discarding the oldest' }),
  ARC_MODELS_DIR: Type.Optional(Type.String({ minLength: 1, description: 'where model weights are stored (default models/cache)' })),
});
export type CommonConfig = Static<typeof CommonConfig>;

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false, strict: false, verbose: true });

function describe(error: ErrorObject, env: Record<string, string | undefined>): ConfigError {
  if (error.keyword === 'required') {
    const variable = (error.params as { missingProperty: string }).missingProperty;
    return new ConfigError(variable, undefined, 'is required');
  }
  const variable = error.instancePath.split('/')[1] ?? '(unknown)';
  const allowed = (error.params as { allowedValue?: unknown }).allowedValue;
  const reason = error.keyword === 'pattern' ? 'has the wrong format' : allowed !== undefined ? 'is not an allowed value' : error.message ?? 'is invalid';
  return new ConfigError(variable, env[variable], reason);
}

const NO_VARIABLES = Type.Object({});
const validators = new WeakMap<TObject, { full: TObject; validate: ValidateFunction }>();

/** A worker's variables with the common ones, compiled once (~25 ms): live changes validate with it again. */
function compiled(schema: TObject | undefined): { full: TObject; validate: ValidateFunction } {
  const key = schema ?? NO_VARIABLES;
  let entry = validators.get(key);
  if (!entry) {
    const full = Type.Composite([CommonConfig, key]);
    entry = { full, validate: ajv.compile(full) };
    validators.set(key, entry);
  }
  return entry;
}

/**
 * Reads the variables of `schema` (plus the common ones) from `env`, converting numbers and
 * booleans and filling defaults. Throws ConfigError naming the first bad variable.
 */
export function loadConfig<P extends TProperties>(
  schema: TObject<P> | undefined,
  env: Record<string, string | undefined> = process.env,
): CommonConfig & Static<TObject<P>> {
  const { full, validate } = compiled(schema as TObject | undefined);
  const candidate: Record<string, unknown> = {};
  for (const name of Object.keys(full.properties)) {
    const value = env[name];
    // An empty variable means "not set" (docker-compose passes FOO= for unset values).
    if (value !== undefined && value !== '') candidate[name] = value;
  }
  if (!validate(candidate)) {
    const errors = validate.errors ?? [];
    // A union of literals reports one error per alternative; the variable is what matters.
    throw describe(errors.find((e) => e.keyword !== 'anyOf') ?? errors[0]!, env);
  }
  return candidate as CommonConfig & Static<TObject<P>>;
}

/**
 * A check of a configured value beyond its schema (a model the manifest must list, say): an
 * error from `check` becomes a ConfigError naming the variable, so the worker exits with code 2.
 */
export function checkVariable(variable: string, value: string | undefined, check: () => void): void {
  try {
    check();
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    throw new ConfigError(variable, value, typeof reason === 'string' ? reason : (error as Error).message);
  }
}

/** Markdown table of variables for the README and `--help`. */
export function describeConfig(schema: TObject): string[] {
  return Object.entries(schema.properties).map(([name, property]) => {
    const p = property as { default?: unknown; description?: string };
    return `| \`${name}\` | ${p.default === undefined ? '' : `\`${String(p.default)}\``} | ${p.description ?? ''} |`;
  });
}
