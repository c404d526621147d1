/** Word error rate for evaluating STT: (substitutions + deletions + insertions) / reference words. */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** English words for 0..999 999 999 without "and" ("365" → "three hundred sixty five"). */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e9) return String(n);
  if (n < 20) return ONES[n] as string;
  if (n < 100) return `${TENS[Math.floor(n / 10)]}${n % 10 ? ` ${ONES[n % 10]}` : ''}`;
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${numberToWords(n % 100)}` : ''}`;
  if (n < 1e6) return `${numberToWords(Math.floor(n / 1000))} thousand${n % 1000 ? ` ${numberToWords(n % 1000)}` : ''}`;
  return `${numberToWords(Math.floor(n / 1e6))} million${n % 1e6 ? ` ${numberToWords(n % 1e6)}` : ''}`;
}

/**
 * Lower case, digits spelled out, punctuation dropped, "and" inside numbers dropped — so "365" and
 * "three hundred and sixty-five" compare equal. Apostrophes are removed ("o'clock" = "oclock").
 */
export function normalizeForWer(text: string): string[] {
  const spelled = text
    .toLowerCase()
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/\d+/g, (d) => ` ${numberToWords(Number(d))} `)
    .replace(/['’]/g, '')
    // old-fashioned hyphenation the STT sometimes writes: "to-day", "to-morrow"
    .replace(/\bto-(day|morrow|night)\b/g, 'to$1')
    .replace(/[^a-z0-9\s]+/g, ' ');
  const words = spelled
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => SPOKEN_FORMS[w] ?? w);
  const numberWords = new Set([...ONES, ...TENS.filter(Boolean), 'hundred', 'thousand', 'million']);
  return words.filter((w, i) => !(w === 'and' && words[i - 1] === 'hundred' && numberWords.has(words[i + 1] ?? '')));
}

/** Written forms an STT may choose for the same spoken word. */
const SPOKEN_FORMS: Record<string, string> = { dr: 'doctor', mr: 'mister', mrs: 'missus', ok: 'okay' };

export interface WerResult {
  errors: number;
  referenceWords: number;
  wer: number;
}

export function wordErrors(reference: string, hypothesis: string): WerResult {
  const ref = normalizeForWer(reference);
  const hyp = normalizeForWer(hypothesis);
  // Levenshtein distance over words, one row at a time.
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const sub = (prev[j - 1] as number) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      row.push(Math.min(sub, (prev[j] as number) + 1, (row[j - 1] as number) + 1));
    }
    prev = row;
  }
  const errors = prev[hyp.length] as number;
  return { errors, referenceWords: ref.length, wer: ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : errors / ref.length };
}

/** Overall WER of many utterances: total errors over total reference words. */
export function corpusWer(pairs: readonly { reference: string; hypothesis: string }[]): WerResult {
  let errors = 0;
  let referenceWords = 0;
  for (const p of pairs) {
    const r = wordErrors(p.reference, p.hypothesis);
    errors += r.errors;
    referenceWords += r.referenceWords;
  }
  return { errors, referenceWords, wer: referenceWords === 0 ? 0 : errors / referenceWords };
}
