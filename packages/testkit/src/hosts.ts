/**
 * Hosts, not just processes: each "host" is a Linux network namespace with its own address on a
 * bridge (10.<n>.0.0/24; the test process stays in the root namespace at .1). Processes started
 * on a host see only that address and the others through the bridge, as separate machines on a
 * LAN would; `delayMs` adds `tc netem` delay on each host's egress (RTT between two hosts =
 * 2 × delay) where the kernel has netem. Needs root (or CAP_NET_ADMIN); `hostsUnavailable()` says why when not.
 */
import { execFileSync } from 'node:child_process';
import { findBinary } from '@arc/devstack';

export interface NetHost {
  readonly name: string;
  /** the network namespace's name */
  readonly namespace: string;
  readonly address: string;
  /** a command prefix that runs a process on this host */
  readonly launcher: readonly string[];
}

export interface NetHosts {
  readonly hosts: readonly NetHost[];
  /** the root namespace's address on the bridge (where the test process and its servers listen) */
  readonly gatewayAddress: string;
  /** the delay each host's egress has (0 when none was asked for, or netem is not in this kernel) */
  readonly delayMs: number;
  /** why the asked-for delay could not be applied */
  readonly delayUnavailable?: string;
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync(findBinary('ip'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** What a failed `ip`/`tc` command printed. */
function failure(error: unknown): string {
  return String((error as { stderr?: Buffer }).stderr ?? error).trim();
}

/** Why network namespaces cannot be made here, or undefined when they can. */
export function hostsUnavailable(): string | undefined {
  const probe = `arc-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return undefined;
  } catch (error) {
    return `network namespaces are not available here (ip netns add: ${failure(error)}); needs root or CAP_NET_ADMIN`;
  }
}

export function createHosts(names: readonly string[], options: { delayMs?: number } = {}): NetHosts {
  const tag = (process.pid % 10_000).toString(36);
  const subnet = `10.${100 + (process.pid % 150)}.0`;
  const bridge = `arcbr${tag}`;
  const created: string[] = [];
  let delayUnavailable: string | undefined;
  const remove = () => {
    for (const ns of created) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      // already gone
    }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const hosts = names.map((name, i): NetHost => {
      const namespace = `arc-${tag}-${name}`;
      const outside = `arv${tag}${i}`;
      const peer = `arp${tag}${i}`;
      const inside = 'eth0';
      ip('netns', 'add', namespace);
      created.push(namespace);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', namespace);
      ip('-n', namespace, 'link', 'set', peer, 'name', inside);
      ip('link', 'set', outside, 'master', bridge);
      ip('link', 'set', outside, 'up');
      const address = `${subnet}.${i + 2}`;
      ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside);
      ip('-n', namespace, 'link', 'set', inside, 'up');
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
      if (options.delayMs && delayUnavailable === undefined) {
        try {
          ip('netns', 'exec', namespace, findBinary('tc'), 'qdisc', 'add', 'dev', inside, 'root', 'netem', 'delay', `${options.delayMs}ms`);
        } catch (error) {
          delayUnavailable = `tc netem: ${failure(error)} (the kernel has no sch_netem)`;
        }
      }
      return { name, namespace, address, launcher: [findBinary('ip'), 'netns', 'exec', namespace] };
    });
    const delayMs = options.delayMs && delayUnavailable === undefined ? options.delayMs : 0;
    return { hosts, gatewayAddress: `${subnet}.1`, delayMs, ...(delayUnavailable ? { delayUnavailable } : {}), remove };
  } catch (error) {
    remove();
    throw error;
  }
}
