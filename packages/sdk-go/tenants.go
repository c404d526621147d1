package arc

import (
	"fmt"
	"regexp"
	"strings"
)

// Tenants (as contracts tenants.ts): one NATS serves several customers, each in its own subject
// namespace. A client of tenant "acme" (Options.Tenant) sends and receives every ARC subject
// under "t.acme." — agent.brain.request is t.acme.agent.brain.request on the wire, the wildcard
// agent.> is t.acme.agent.> — and its request replies come back on its own inbox prefix,
// "_INBOX_acme.". The tenant's NATS credentials allow exactly those two namespaces
// (TenantPermissions), so a tenant can neither publish, subscribe nor request into another one,
// nor read another tenant's replies. Inside a namespace the subjects, schemas and the 8-token
// rule are those of the rest of this package: the Client adds the prefix on the wire and
// removes it from what it receives.

// TenantSubjectPrefix is the first token of every tenant subject (t.<tenant>.<subject>).
const TenantSubjectPrefix = "t"

// TenantIDPattern is what a tenant id must match: one subject token, lower-case, as in a DNS
// label (it also names NATS users).
const TenantIDPattern = `^[a-z0-9][a-z0-9_-]{0,31}$`

var tenantID = regexp.MustCompile(TenantIDPattern)

// InvalidTenantError is a tenant id that does not match TenantIDPattern.
type InvalidTenantError struct {
	Tenant string
}

func (e *InvalidTenantError) Error() string {
	return fmt.Sprintf("invalid tenant id %q: 1 to 32 of a-z 0-9 _ -, starting with a letter or digit", e.Tenant)
}

// ValidateTenant returns an *InvalidTenantError unless tenant matches TenantIDPattern.
func ValidateTenant(tenant string) error {
	if !tenantID.MatchString(tenant) {
		return &InvalidTenantError{Tenant: tenant}
	}
	return nil
}

// TenantSubject is subject in the tenant's namespace: TenantSubject("acme", "agent.brain.request")
// is "t.acme.agent.brain.request" (patterns too: "agent.>" → "t.acme.agent.>").
func TenantSubject(tenant, subject string) string {
	return TenantSubjectPrefix + "." + tenant + "." + subject
}

// SubjectInTenant removes the tenant's namespace from a subject received on the wire:
// SubjectInTenant("acme", "t.acme.agent.brain.request") is "agent.brain.request". A subject
// outside the namespace is an *InvalidSubjectError.
func SubjectInTenant(tenant, wireSubject string) (string, error) {
	prefix := TenantSubjectPrefix + "." + tenant + "."
	if !strings.HasPrefix(wireSubject, prefix) {
		return "", &InvalidSubjectError{wireSubject, fmt.Sprintf("not in tenant %q (subjects start with %q)", tenant, prefix)}
	}
	return wireSubject[len(prefix):], nil
}

// TenantInboxPrefix is the inbox prefix of a tenant's connections: request replies arrive on
// "_INBOX_<tenant>.…" (nats.CustomInboxPrefix, which Connect sets for Options.Tenant).
func TenantInboxPrefix(tenant string) string {
	return "_INBOX_" + tenant
}

// Permissions are the allow lists of a NATS user (nats-server's permissions block).
type Permissions struct {
	Publish   []string
	Subscribe []string
}

// TenantPermissions is what a tenant's NATS user may publish and subscribe to: its namespace
// and its inboxes, nothing else (["t.<tenant>.>", "_INBOX_<tenant>.>"] each). An invalid tenant
// id is an *InvalidTenantError.
func TenantPermissions(tenant string) (Permissions, error) {
	if err := ValidateTenant(tenant); err != nil {
		return Permissions{}, err
	}
	allowed := func() []string { return []string{TenantSubject(tenant, ">"), TenantInboxPrefix(tenant) + ".>"} }
	return Permissions{Publish: allowed(), Subscribe: allowed()}, nil
}
