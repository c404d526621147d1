/**
 * livekit-server configuration for a loopback stack (`arc up`, tests): one key, optional webhooks,
 * and for a multi-node deployment the shared Redis and the node's region.
 */
export interface LiveKitConfigOptions {
  port: number;
  tcpPort: number;
  udpPort: number;
  apiKey: string;
  /** livekit-server wants 32+ characters */
  apiSecret: string;
  /** where LiveKit posts webhooks, signed with the API key */
  webhookUrls?: readonly string[];
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** several nodes: the Redis they share (`host:port`), and where this one stands */
  cluster?: LiveKitClusterOptions;
}

export interface LiveKitClusterOptions {
  redisAddress: string;
  /** this node's region, one of `regions` */
  region: string;
  /**
   * Every node's region. A room is placed on a node of the region nearest to the node its first
   * participant joined through (LiveKit's region-aware selector), so a room opened through a
   * node stays on it; the others reach it through LiveKit's signal relay.
   */
  regions: readonly string[];
}

export function liveKitConfigYaml(options: LiveKitConfigOptions): string {
  const lines = [
    `port: ${options.port}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    `  tcp_port: ${options.tcpPort}`,
    `  udp_port: ${options.udpPort}`,
    '  use_external_ip: false',
    '  node_ip: 127.0.0.1',
    'keys:',
    `  ${options.apiKey}: ${options.apiSecret}`,
    'logging:',
    `  level: ${options.logLevel ?? 'info'}`,
  ];
  if (options.webhookUrls?.length) {
    lines.push('webhook:', `  api_key: ${options.apiKey}`, '  urls:', ...options.webhookUrls.map((url) => `    - ${url}`));
  }
  const cluster = options.cluster;
  if (cluster) {
    // Regions a quarter of the globe apart on the equator: only the nearest-region rule matters.
    lines.push(
      'redis:',
      `  address: ${cluster.redisAddress}`,
      `region: ${cluster.region}`,
      'node_selector:',
      '  kind: regionaware',
      '  sort_by: random',
      '  algorithm: lowest',
      '  sysload_limit: 1000',
      '  regions:',
      ...cluster.regions.flatMap((name, i) => [`    - name: ${name}`, '      lat: 0', `      lon: ${(i * 90) % 360}`]),
    );
  }
  return `${lines.join('\n')}\n`;
}
