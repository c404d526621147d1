import { readFileSync, writeFileSync } from 'node:fs';
import { AudioInputError, WavFormatError } from '../errors.js';
import { downmix, float32ToInt16 } from './pcm.js';
import { resample } from './resample.js';

export interface WavData {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Interleaved samples as float in [-1, 1]. */
  samples: Float32Array;
}

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;

/** Parses a RIFF/WAVE file: PCM 8/16/24/32-bit or 32/64-bit float, any channel count. */
export function parseWav(bytes: Uint8Array, source = '<buffer>'): WavData {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12) throw new WavFormatError(source, 'length', buf.length, 'shorter than a RIFF header');
  const riff = buf.toString('ascii', 0, 4);
  if (riff !== 'RIFF') throw new WavFormatError(source, 'chunk id', riff, 'expected "RIFF"');
  const wave = buf.toString('ascii', 8, 12);
  if (wave !== 'WAVE') throw new WavFormatError(source, 'format', wave, 'expected "WAVE"');
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    let size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError(source, 'fmt size', size, 'fmt chunk too short');
      let format = buf.readUInt16LE(body);
      if (format === EXTENSIBLE && size >= 40) format = buf.readUInt16LE(body + 24); // sub-format GUID starts with the tag
      fmt = { format, channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError(source, 'chunk order', id, 'data chunk before fmt chunk');
      // Streamed WAVs (size 0 or 0xFFFFFFFF) and truncated files: take what is there.
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      return decode(buf.subarray(body, body + size), fmt, source);
    }
    offset = body + size + (size % 2); // chunks are word aligned
  }
  throw new WavFormatError(source, fmt ? 'data' : 'fmt ', null, 'chunk not found');
}

function decode(data: Buffer, fmt: { format: number; channels: number; sampleRate: number; bits: number }, source: string): WavData {
  const { format, channels, sampleRate, bits } = fmt;
  if (channels < 1 || channels > 32) throw new WavFormatError(source, 'channels', channels, 'expected 1..32');
  if (sampleRate < 1000 || sampleRate > 384000) throw new WavFormatError(source, 'sample rate', sampleRate, 'expected 1000..384000 Hz');
  const bytesPer = bits / 8;
  const count = Math.floor(data.length / bytesPer / channels) * channels;
  const out = new Float32Array(count);
  if (format === PCM && bits === 8) for (let i = 0; i < count; i++) out[i] = ((data[i] as number) - 128) / 128;
  else if (format === PCM && bits === 16) for (let i = 0; i < count; i++) out[i] = data.readInt16LE(i * 2) / 32768;
  else if (format === PCM && bits === 24) for (let i = 0; i < count; i++) out[i] = data.readIntLE(i * 3, 3) / 8388608;
  else if (format === PCM && bits === 32) for (let i = 0; i < count; i++) out[i] = data.readInt32LE(i * 4) / 2147483648;
  else if (format === IEEE_FLOAT && bits === 32) for (let i = 0; i < count; i++) out[i] = data.readFloatLE(i * 4);
  else if (format === IEEE_FLOAT && bits === 64) for (let i = 0; i < count; i++) out[i] = data.readDoubleLE(i * 8);
  else throw new WavFormatError(source, 'format/bits', `${format}/${bits}`, 'supported: PCM 8/16/24/32-bit, float 32/64-bit');
  return { sampleRate, channels, bitsPerSample: bits, samples: out };
}

export function readWav(path: string): WavData {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new AudioInputError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseWav(bytes, path);
}

/** Mono float audio at `sampleRate` (16 kHz by default) from any WAV we can parse: downmixed, resampled. */
export function loadAudio(path: string, sampleRate = 16000): Float32Array {
  const wav = readWav(path);
  return resample(downmix(wav.samples, wav.channels), wav.sampleRate, sampleRate);
}

/** 16-bit PCM mono/interleaved WAV bytes. */
export function encodeWav(samples: Int16Array | Float32Array, sampleRate: number, channels = 1): Buffer {
  const pcm = samples instanceof Int16Array ? samples : float32ToInt16(samples);
  const dataSize = pcm.length * 2;
  const buf = Buffer.alloc(44 + dataSize);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataSize, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(PCM, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataSize, 40);
  for (let i = 0; i < pcm.length; i++) buf.writeInt16LE(pcm[i] as number, 44 + i * 2);
  return buf;
}

export function writeWav(path: string, samples: Int16Array | Float32Array, sampleRate: number, channels = 1): void {
  writeFileSync(path, encodeWav(samples, sampleRate, channels));
}
