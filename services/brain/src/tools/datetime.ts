import { ToolError, type Tool } from './types.js';

/** The real current date and time, in the user's timezone when known. */
export function createDateTimeTool(now: () => Date = () => new Date()): Tool {
  return {
    spec: {
      name: 'current_datetime',
      description: 'Current date, weekday and time. Optional IANA timezone, e.g. "Europe/Paris".',
      parameters: {
        type: 'object',
        properties: { timezone: { type: 'string', description: 'IANA timezone name' } },
        additionalProperties: false,
      },
    },
    async run(args, context) {
      const profileZone = context.userProfile?.['timezone'];
      const timeZone =
        typeof args['timezone'] === 'string' && args['timezone'] ? args['timezone'] : typeof profileZone === 'string' ? profileZone : 'UTC';
      let formatted: string;
      try {
        formatted = new Intl.DateTimeFormat('en-US', {
          timeZone,
          weekday: 'long',
          year: 'numeric',
          month: 'long',
          day: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23', // hour12: false prints midnight as 24:xx
          timeZoneName: 'short',
        }).format(now());
      } catch (error) {
        throw new ToolError(`unknown timezone "${timeZone}"`, { cause: error });
      }
      return `${formatted} (ISO ${now().toISOString()})`;
    },
  };
}
