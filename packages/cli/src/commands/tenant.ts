/**
 * `arc tenant add|remove|list`: the NATS users of a multi-tenant ARC. Each tenant gets an nkey
 * user whose permissions allow only its namespace `t.<id>.>` and its inboxes `_INBOX_<id>.>`
 * (tenantPermissions in @arc/contracts); the operator gets one user with every subject (the
 * audit stream, monitors). The server's side is one file, `auth.conf`, holding public keys only:
 * run nats-server with `-c auth.conf` (or `include` it); a running server applies a change on
 * SIGHUP (`--reload <pid>`). Each user's secret seed is written once, to `<id>.nk` (mode 0600),
 * and is what its workers connect with (NATS_NKEY_FILE).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createUser } from '@nats-io/nkeys';
import { assertValidTenant, tenantPermissions } from '@arc/contracts';
import { STACK_DIR } from './up.js';
import { CliError } from './bus.js';

export const DEFAULT_TENANTS_DIR = join(STACK_DIR, 'nats');
const OPERATOR = 'operator';

interface TenantUsers {
  operator: { public_key: string };
  tenants: Record<string, { public_key: string; added_at: string }>;
}

/** nats-server's authorization block for these users: the operator unrestricted, each tenant in its namespace. */
export function natsAuthorizationConf(users: TenantUsers): string {
  const quoted = (list: string[]) => list.map((s) => JSON.stringify(s)).join(', ');
  const lines = [
    '# Written by `arc tenant`: NATS users of ARC (public nkeys only; each seed is in <name>.nk).',
    '# nats-server -c auth.conf, or include it; a running server applies changes on SIGHUP.',
    'authorization {',
    '  users = [',
    `    # the operator: every subject (audit stream, monitors, tenants' configuration)`,
    `    { nkey: ${JSON.stringify(users.operator.public_key)} }`,
  ];
  for (const [tenant, user] of Object.entries(users.tenants).sort(([a], [b]) => a.localeCompare(b))) {
    const allowed = tenantPermissions(tenant);
    lines.push(
      `    # tenant ${tenant}, added ${user.added_at}`,
      `    { nkey: ${JSON.stringify(user.public_key)}, permissions: { publish: { allow: [${quoted(allowed.publish)}] }, subscribe: { allow: [${quoted(allowed.subscribe)}] } } }`,
    );
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}

class TenantStore {
  readonly usersFile: string;
  readonly confFile: string;

  constructor(readonly dir: string) {
    this.usersFile = join(dir, 'users.json');
    this.confFile = join(dir, 'auth.conf');
  }

  seedFile(name: string): string {
    return join(this.dir, `${name}.nk`);
  }

  /** The users so far; none (undefined) before the first `add`. */
  load(): TenantUsers | undefined {
    return existsSync(this.usersFile) ? (JSON.parse(readFileSync(this.usersFile, 'utf8')) as TenantUsers) : undefined;
  }

  /** The users so far, or a new store with its operator (the first `add`). */
  loadOrCreate(): TenantUsers {
    const users = this.load();
    if (users) return users;
    mkdirSync(this.dir, { recursive: true });
    return { operator: { public_key: this.newUser(OPERATOR) }, tenants: {} };
  }

  /** A new nkey user: its seed goes to `<name>.nk` (0600); returns its public key. */
  newUser(name: string): string {
    const pair = createUser();
    const file = this.seedFile(name);
    writeFileSync(file, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return pair.getPublicKey();
  }

  save(users: TenantUsers): void {
    writeFileSync(this.usersFile, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
    writeFileSync(this.confFile, natsAuthorizationConf(users));
  }
}

function reload(pid: number | undefined, confFile: string): string {
  if (pid === undefined) return `Start nats-server with -c ${confFile} (or include it); a running one applies it on SIGHUP (--reload <pid>).`;
  try {
    process.kill(pid, 'SIGHUP');
  } catch (error) {
    throw new CliError(`could not signal nats-server (pid ${pid}) to reload: ${(error as Error).message}`);
  }
  return `nats-server (pid ${pid}) told to reload its configuration.`;
}

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description("tenants: NATS users that may use only their own subjects t.<id>.> and inboxes _INBOX_<id>.>");
  const dirOption = ['--dir <dir>', `where auth.conf, users.json and the .nk seeds are kept (default ${DEFAULT_TENANTS_DIR})`] as const;
  const pidOption = ['--reload <pid>', 'send SIGHUP to this nats-server so it applies the change now', (v: string) => Number.parseInt(v, 10)] as const;

  tenant
    .command('add')
    .description('add a tenant: writes its NATS user to auth.conf and its key to <id>.nk')
    .argument('<id>', 'tenant id: 1 to 32 of a-z 0-9 _ -')
    .option(...dirOption)
    .option(...pidOption)
    .action((id: string, options: { dir?: string; reload?: number }) => {
      try {
        assertValidTenant(id);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      if (id === OPERATOR) throw new CliError(`"${OPERATOR}" names the operator's key; choose another tenant id`);
      const store = new TenantStore(resolve(options.dir ?? DEFAULT_TENANTS_DIR));
      const users = store.loadOrCreate();
      if (users.tenants[id]) throw new CliError(`tenant ${id} exists already (arc tenant remove ${id} first to give it a new key)`);
      users.tenants[id] = { public_key: store.newUser(id), added_at: new Date().toISOString() };
      store.save(users);
      const allowed = tenantPermissions(id).publish.join(' and ');
      console.log(
        [
          `tenant ${id} added: its NATS user may publish and subscribe to ${allowed} only`,
          `  server: ${store.confFile} (${Object.keys(users.tenants).length} tenant(s) and the operator)`,
          `  ${id}'s workers and clients:  ARC_TENANT=${id} NATS_NKEY_FILE=${store.seedFile(id)}`,
          `  the operator (every subject): NATS_NKEY_FILE=${store.seedFile(OPERATOR)}`,
          `  ${reload(options.reload, store.confFile)}`,
        ].join('\n'),
      );
    });

  tenant
    .command('remove')
    .description("remove a tenant: its user leaves auth.conf and its key is deleted")
    .argument('<id>')
    .option(...dirOption)
    .option(...pidOption)
    .action((id: string, options: { dir?: string; reload?: number }) => {
      const store = new TenantStore(resolve(options.dir ?? DEFAULT_TENANTS_DIR));
      const users = store.load();
      if (!users?.tenants[id]) throw new CliError(`no tenant ${id} in ${store.dir}`);
      delete users.tenants[id];
      store.save(users);
      rmSync(store.seedFile(id), { force: true });
      console.log(`tenant ${id} removed from ${store.confFile}\n  ${reload(options.reload, store.confFile)}`);
    });

  tenant
    .command('list')
    .description('the tenants and their public keys')
    .option(...dirOption)
    .action((options: { dir?: string }) => {
      const store = new TenantStore(resolve(options.dir ?? DEFAULT_TENANTS_DIR));
      const users = store.load();
      if (!users) return console.log(`no tenants in ${store.dir}`);
      for (const [id, user] of Object.entries(users.tenants)) console.log(`${id}\t${user.public_key}\tadded ${user.added_at}`);
    });
}
