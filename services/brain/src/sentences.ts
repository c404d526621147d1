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

  /** Text after the last complete sentence (what `flush` would return). */
  get pending(): string {
    return this.buffer;
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

/**
 * What TTS can say: markdown, list markers, links and emoji removed. "**Paris** is the
 * capital 🇫🇷" → "Paris is the capital". Returns '' when nothing speakable is left.
 */
export function speakable(sentence: string): string {
  return sentence
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // [text](url) → text
    .replace(/^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)/, '') // heading, quote, list marker
    .replace(/(\*\*|__|\*|_|~~|`)(?=\S)([^*_~`]*?\S)\1/g, '$2') // **bold**, _italic_, `code`
    .replace(/[*#`~|<>]+/g, ' ')
    .replace(/[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{FE0F}\u{200D}\u{20E3}]/gu, '')
    .replace(/\s+([,.!?;:])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** How long a spoken answer may be: sentences and words, whichever comes first. */
export interface AnswerCap {
  readonly maxSentences: number;
  readonly maxWords: number;
}

/** Asked for a long answer: "tell me a story", "explain in detail", "tell me more about …". */
export function asksForDetail(userInput: string): boolean {
  return /\b(in detail|detailed|step by step|tell me (?:a story|more|everything|all about)|(?:long|longer|full) (?:answer|story|explanation|version)|explain (?:fully|thoroughly)|elaborate|walk me through|list all)\b/i.test(userInput);
}

const wordCount = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length;

/**
 * A sentence that never ends ("Der Königin der deutschen Reich, der deutsche …" for seconds):
 * past `maxWords` words it is cut at the last comma, or else the last word, and ended there.
 */
export function cutRunaway(text: string, maxWords: number): string | undefined {
  const words = text.split(/\s+/).filter((w) => w !== '');
  if (words.length <= maxWords) return undefined;
  const kept = words.slice(0, maxWords).join(' ');
  const comma = kept.lastIndexOf(',');
  const cut = comma > kept.length / 2 ? kept.slice(0, comma) : kept;
  return `${cut.replace(/[\s,;:–-]+$/, '')}.`;
}

/**
 * Takes sentences until the cap: the answer ends at the last sentence that fits (the first one
 * always does, however long), and `full` says the model may stop now.
 */
export class CappedSentences {
  readonly taken: string[] = [];
  private words = 0;
  full = false;

  constructor(private readonly cap: AnswerCap) {}

  /** true when the sentence is to be spoken */
  take(sentence: string): boolean {
    if (this.full) return false;
    const words = wordCount(sentence);
    if (this.taken.length > 0 && this.words + words > this.cap.maxWords) {
      this.full = true;
      return false;
    }
    this.taken.push(sentence);
    this.words += words;
    if (this.taken.length >= this.cap.maxSentences || this.words >= this.cap.maxWords) this.full = true;
    return true;
  }
}
