import { readFileSync } from 'node:fs';
import { ModelLoadError } from '../errors.js';

/**
 * Reads Moonshine's `tokenizer.bin` (the format moonshine-cpp ships): the vocabulary in id order,
 * each token a 1-byte length followed by that many UTF-8 bytes. Ids 0..2 are <unk>, <s>, </s>;
 * ids 3..258 are the 256 byte-fallback tokens (<0x00>..<0xFF>) stored as the raw byte; the rest
 * are SentencePiece pieces where U+2581 (▁) marks a word start.
 */
export class MoonshineTokenizer {
  static readonly BOS = 1;
  static readonly EOS = 2;
  private static readonly BYTE_BASE = 3;

  private constructor(private readonly pieces: Uint8Array[]) {}

  static load(path: string): MoonshineTokenizer {
    const data = readFileSync(path);
    const pieces: Uint8Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      const length = data[offset] as number;
      // A length byte ≥ 0x80 would mean a wider length encoding this reader does not know.
      if (length >= 0x80 || offset + 1 + length > data.length) {
        throw new ModelLoadError(path, `tokenizer.bin: unexpected length byte ${length} at offset ${offset} (token ${pieces.length})`);
      }
      pieces.push(data.subarray(offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    if (pieces.length < 259) throw new ModelLoadError(path, `tokenizer.bin: only ${pieces.length} tokens`);
    return new MoonshineTokenizer(pieces);
  }

  get size(): number {
    return this.pieces.length;
  }

  /** Text of token ids; special tokens and ids outside the vocabulary are skipped. */
  decode(ids: Iterable<number>): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (id < MoonshineTokenizer.BYTE_BASE || id >= this.pieces.length) continue;
      const piece = this.pieces[id] as Uint8Array;
      for (const b of piece) bytes.push(b);
    }
    // Byte-fallback tokens can split a UTF-8 character; decoding all bytes at once rejoins them.
    return Buffer.from(bytes).toString('utf8').replaceAll('\u2581', ' ').trim();
  }

  /** Id of a piece (for tests): e.g. "▁the". */
  idOf(piece: string): number | undefined {
    const wanted = Buffer.from(piece, 'utf8');
    const i = this.pieces.findIndex((p) => Buffer.compare(Buffer.from(p), wanted) === 0);
    return i < 0 ? undefined : i;
  }
}
