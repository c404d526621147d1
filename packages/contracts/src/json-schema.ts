import { DeadLetterSchema, SubjectSchemas, TtsAcceptedSchema } from './schemas.js';

/** File name (in packages/contracts/schemas/) → JSON Schema document, for other-language clients. */
export function jsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const all: Record<string, object> = { ...SubjectSchemas, 'agent.tts.request.reply': TtsAcceptedSchema, dlq: DeadLetterSchema };
  for (const [subject, schema] of Object.entries(all)) {
    const document = { $schema: 'http://json-schema.org/draft-07/schema#', ...schema };
    // JSON.stringify drops TypeBox's symbol keys, leaving plain JSON Schema.
    files.set(`${subject}.schema.json`, `${JSON.stringify(document, null, 2)}\n`);
  }
  return files;
}
