/** Splitting text into the units Piper synthesizes: sentences, and clauses inside them. */

/** Abbreviations whose period does not end a sentence (lower-case, without the period). */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'no', 'approx', 'dept', 'inc', 'ltd', 'co', 'mt', 'ft']);
/** Sentences longer than this are cut at clause or word boundaries: VITS cost and memory grow with length. */
export const MAX_SENTENCE_CHARS = 400;

/**
 * Sentences in order, each with its terminal punctuation. A period after a known abbreviation,
 * an initial ("J. Smith") or inside a number ("3.5") does not end a sentence; blank lines do.
 */
export function splitSentences(text: string): string[] {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/[ \t\f\v]+/g, ' ');
  const sentences: string[] = [];
  for (const block of normalized.split(/\n\s*\n/)) {
    const flat = block.replace(/\s*\n\s*/g, ' ').trim();
    let start = 0;
    const boundary = /[.!?…]+["')\]]*(?=\s|$)/g;
    for (let m = boundary.exec(flat); m; m = boundary.exec(flat)) {
      const end = m.index + m[0].length;
      const before = flat.slice(start, m.index);
      const lastWord = /([A-Za-z.]+)$/.exec(before)?.[1]?.toLowerCase() ?? '';
      if (m[0] === '.' && (ABBREVIATIONS.has(lastWord) || /^[a-z]$/i.test(lastWord))) continue;
      pushLimited(sentences, flat.slice(start, end).trim());
      start = end;
    }
    pushLimited(sentences, flat.slice(start).trim());
  }
  return sentences;
}

function pushLimited(out: string[], sentence: string): void {
  let rest = sentence;
  while (rest.length > MAX_SENTENCE_CHARS) {
    const window = rest.slice(0, MAX_SENTENCE_CHARS);
    // Prefer a clause boundary, then a space; a 400-char "word" is cut where it is.
    let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    cut = cut > MAX_SENTENCE_CHARS / 4 ? cut + 1 : window.lastIndexOf(' ');
    if (cut <= 0) cut = MAX_SENTENCE_CHARS;
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) out.push(rest);
}

export interface Clause {
  text: string;
  /** Punctuation that ended the clause, kept as a phoneme (Piper maps it to an id): , ; : . ? ! or '' */
  punctuation: string;
}

/** Clauses of one sentence, split where espeak-ng would end a clause, with their punctuation. */
export function splitClauses(sentence: string): Clause[] {
  // "3.5" and "1,000": a mark between digits belongs to the number, so hide it while splitting.
  // So do the periods of abbreviations and initials ("Dr. Smith", "J. R. Smith").
  const protectedText = sentence
    .replace(/(\d)([.,])(?=\d)/g, (_m, d: string, p: string) => d + (p === '.' ? '\uE000' : '\uE001'))
    .replace(/\b([A-Za-z]+)\.(?=\s+\S)/g, (m, word: string) => (ABBREVIATIONS.has(word.toLowerCase()) || word.length === 1 ? `${word}\uE000` : m));
  const restore = (t: string): string => t.replaceAll('\uE000', '.').replaceAll('\uE001', ',');
  const clauses: Clause[] = [];
  for (const m of protectedText.matchAll(/([^,;:.!?…]*)([,;:.!?…]+|$)/g)) {
    if (m[0] === '') continue;
    const text = restore((m[1] ?? '').trim());
    const punctuation = lastMark(m[2] ?? '');
    if (text === '') {
      // Punctuation with no words ("..." or "?!" after a clause) only adds its mark to the previous clause.
      const prev = clauses[clauses.length - 1];
      if (prev && !prev.punctuation) prev.punctuation = punctuation;
      continue;
    }
    clauses.push({ text, punctuation });
  }
  return clauses;
}

/** "?!" → "!" is not what Piper does; it keeps the mark espeak-ng reports, which is the last one. "…" → ".". */
function lastMark(punct: string): string {
  const mark = punct.slice(-1);
  return mark === '…' ? '.' : mark;
}

/** A piece of text synthesized in one model run, and the silence that follows it. */
export interface SpeakingUnit {
  text: string;
  silenceAfterMs: number;
}

/** A first sentence of at least this many words is spoken in two parts (see speakingUnits). */
const FIRST_CHUNK_MIN_WORDS = 8;
/** ...and one of at least this many, when a clause mark ends one of its first words ("Sure, I can help."). */
const FIRST_CLAUSE_MIN_WORDS = 4;
/** Words a phrase may begin with: cutting before one keeps the first part a natural phrase. */
const PHRASE_STARTS = new Set(['in', 'on', 'at', 'to', 'for', 'from', 'with', 'of', 'by', 'about', 'and', 'but', 'or', 'so', 'because', 'when', 'while', 'if', 'that', 'which', 'who', 'after', 'before', 'until']);

/**
 * What to synthesize, in order: the sentences of `text`, each followed by `sentenceSilenceMs`
 * of silence except the last. With `shortFirstChunk`, a long first sentence is spoken in two
 * parts so its first part, synthesized alone, plays sooner: synthesis time grows with length,
 * and the listener waits only for the first part. The cut is at a clause mark within the first
 * five words (a sentence of four words or more: "Sure," then the rest), else, in a sentence of
 * eight words or more, before a word that starts a phrase, or after the fourth word.
 */
export function speakingUnits(text: string, options: { sentenceSilenceMs?: number; shortFirstChunk?: boolean } = {}): SpeakingUnit[] {
  const sentences = splitSentences(text);
  const silence = options.sentenceSilenceMs ?? 200;
  const units = sentences.map((sentence, i) => ({ text: sentence, silenceAfterMs: i < sentences.length - 1 ? silence : 0 }));
  const first = units[0];
  if (!first || !options.shortFirstChunk) return units;
  const words = first.text.split(' ');
  if (words.length < FIRST_CLAUSE_MIN_WORDS) return units;
  const clause = words.slice(0, 5).findIndex((word, i) => i < words.length - 2 && /[,;:]$/.test(word));
  if (clause < 0 && words.length < FIRST_CHUNK_MIN_WORDS) return units;
  const cut = clause >= 0 ? clause + 1 : ([3, 4, 5].find((i) => PHRASE_STARTS.has(words[i]!.toLowerCase())) ?? 4);
  return [{ text: words.slice(0, cut).join(' '), silenceAfterMs: 0 }, { text: words.slice(cut).join(' '), silenceAfterMs: first.silenceAfterMs }, ...units.slice(1)];
}
