import pino, { type Logger } from 'pino';

/** JSON logs for machines; pretty, colourised lines when a person is watching a terminal. */
export function createLogger(service: string, level = 'info', instanceId?: string): Logger {
  const pretty = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';
  return pino({
    level,
    base: { service, ...(instanceId ? { instance_id: instanceId } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}

export type { Logger };
