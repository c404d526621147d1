/**
 * Streaming sentence splitter: tokens go in as they arrive, complete sentences come out as soon
 * as the whitespace after their final punctuation is seen, so TTS can start speaking sentence one
 * while the model is still writing sentence two.
 *
 * A sentence ends at `.`, `!`, `?` or `…` (optionally followed by closing quotes/brackets) plus
 * whitespace, or at a line break. A period after a known abbreviation ("Dr."), a single letter
 * ("J.") or a bare number ("1." in a list) does not end one. Decimals ("3.14") never split
 * because no whitespace follows their period.
 */

const TERMINATORS = new Set(['.', '!', '?', '…']);
const CLOSERS = new Set(['"', "'", ')', ']', '»', '”', '’']);
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'e.g', 'i.e', 'approx', 'no', 'fig', 'mt', 'inc', 'ltd', 'co',
  'a.m', 'p.m', 'u.s', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
]);

export class SentenceSplitter {
  private buffer = '';
  /** buffer positions before this were already scanned and hold no boundary */
  private scanned = 0;

  /** Adds streamed text; returns the sentences it completed (trimmed, non-empty), in order. */
  push(delta: string): string[] {
    this.buffer += delta;
    const sentences: string[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const ch = this.buffer[i]!;
      if (ch === '\n') {
        start = this.emit(sentences, start, i);
        continue;
      }
      if (!isWhitespace(ch)) continue;
      let end = i - 1;
      while (end >= start && CLOSERS.has(this.buffer[end]!)) end--;
      if (end < start || !TERMINATORS.has(this.buffer[end]!)) continue;
      if (this.buffer[end] === '.' && this.periodDoesNotEnd(start, end)) continue;
      start = this.emit(sentences, start, i);
    }
    this.buffer = this.buffer.slice(start);
    this.scanned = this.buffer.length;
    return sentences;
  }

  /** The model finished: whatever is left is the last sentence (if it has any text). */
  flush(): string[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    this.scanned = 0;
    return rest ? [rest] : [];
  }

  private emit(into: string[], start: number, end: number): number {
    const sentence = this.buffer.slice(start, end).trim();
    if (sentence) into.push(sentence);
    return end + 1;
  }

  private periodDoesNotEnd(start: number, period: number): boolean {
    let wordStart = period;
    while (wordStart > start && !isWhitespace(this.buffer[wordStart - 1]!)) wordStart--;
    const word = this.buffer.slice(wordStart, period).replace(/^["'(\[«“‘]+/, '');
    if (word.length === 0) return false;
    if (/^\d{1,3}$/.test(word)) return wordStart === start; // "1." opening a list item, not "in 2019."
    if (/^[A-Za-z]$/.test(word)) return true;
    return ABBREVIATIONS.has(word.toLowerCase());
  }
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\u00a0';
}

/** Joins sentences into the final answer text exactly as partials concatenate. */
export function joinSentences(sentences: readonly string[]): string {
  return sentences.join(' ');
}
