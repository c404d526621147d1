/**
 * Tenants (seed 000): one NATS serves several customers, each in its own subject namespace.
 * A worker or client of tenant `acme` (ARC_TENANT=acme) sends and receives every ARC subject
 * under `t.acme.` — `agent.brain.request` is `t.acme.agent.brain.request` on the wire, the
 * wildcard `agent.>` is `t.acme.agent.>` — and its request replies come back on its own inbox
 * prefix, `_INBOX_acme.`. The tenant's NATS credentials allow exactly those two namespaces
 * (tenantPermissions), so a tenant can neither publish, subscribe nor request into another one,
 * nor read another tenant's replies. Inside a namespace the subjects, schemas and the 8-token
 * rule are those of the rest of this package: the prefix is added on the wire by the bus, and
 * removed from what it receives.
 */
import { InvalidSubjectError } from './subjects.js';

export const TENANT_SUBJECT_PREFIX = 't';
/** Tenant ids: one subject token, lower-case, as in a DNS label (it also names NATS users). */
export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';
const TENANT_ID = new RegExp(TENANT_ID_PATTERN);

export class InvalidTenantError extends Error {
  override readonly name = 'InvalidTenantError';
  constructor(readonly tenant: string) {
    super(`invalid tenant id "${tenant}": 1 to 32 of a-z 0-9 _ -, starting with a letter or digit`);
  }
}

export function assertValidTenant(tenant: string): void {
  if (typeof tenant !== 'string' || !TENANT_ID.test(tenant)) throw new InvalidTenantError(String(tenant));
}

/** `agent.brain.request` → `t.<tenant>.agent.brain.request` (patterns too: `agent.>` → `t.<tenant>.agent.>`). */
export function tenantSubject(tenant: string, subject: string): string {
  return `${TENANT_SUBJECT_PREFIX}.${tenant}.${subject}`;
}

/** `t.<tenant>.agent.brain.request` → `agent.brain.request`; throws for a subject outside the tenant's namespace. */
export function subjectInTenant(tenant: string, wireSubject: string): string {
  const prefix = `${TENANT_SUBJECT_PREFIX}.${tenant}.`;
  if (!wireSubject.startsWith(prefix)) throw new InvalidSubjectError(wireSubject, `not in tenant "${tenant}" (subjects start with "${prefix}")`);
  return wireSubject.slice(prefix.length);
}

/** The inbox prefix of a tenant's connections: request replies arrive on `_INBOX_<tenant>.…`. */
export function tenantInboxPrefix(tenant: string): string {
  return `_INBOX_${tenant}`;
}

/** What a tenant's NATS user may publish and subscribe to: its namespace and its inboxes, nothing else. */
export function tenantPermissions(tenant: string): { publish: string[]; subscribe: string[] } {
  assertValidTenant(tenant);
  const allowed = [tenantSubject(tenant, '>'), `${tenantInboxPrefix(tenant)}.>`];
  return { publish: allowed, subscribe: allowed };
}
