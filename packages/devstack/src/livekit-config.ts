/** livekit-server configuration for a loopback stack (`arc up`, tests): one key, optional webhooks. */
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
  return `${lines.join('\n')}\n`;
}
