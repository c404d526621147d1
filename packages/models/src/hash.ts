import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { OnBytes } from './archive.js';

export interface FileDigest {
  sha256: string;
  size: number;
}

/** sha256 of a file, streamed; undefined when the file does not exist. */
export async function digestFile(path: string, onBytes?: OnBytes): Promise<FileDigest | undefined> {
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    onBytes?.(size);
  }
  return { sha256: hash.digest('hex'), size };
}
