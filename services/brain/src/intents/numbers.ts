/**
 * Numbers as people say them and as speech-to-text writes them: "17", "1,250", "3.5",
 * "seventeen", "twenty-five", "one hundred and twelve", "a thousand", "two point five",
 * "a thousand". `replaceNumberWords` turns every spoken number in a text (already lower-cased,
 * punctuation removed) into digits, so the intent patterns only ever see digits.
 */

const UNITS: Record<string, number> = {
  zero: 0, oh: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
const SCALES: Record<string, number> = { hundred: 100, thousand: 1_000, million: 1_000_000, billion: 1_000_000_000 };
const DIGIT_WORDS: Record<string, string> = { zero: '0', oh: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9' };

const isNumberWord = (word: string): boolean => word in UNITS || word in TENS || word in SCALES;

/**
 * Parses a run of number words ("one hundred and twelve") into its value; undefined when the
 * words do not form a number.
 */
export function parseNumberWords(words: readonly string[]): number | undefined {
  if (words.length === 0) return undefined;
  let total = 0;
  let current = 0;
  let seen = false;
  let last: 'unit' | 'ten' | 'scale' | undefined;
  for (const word of words) {
    if (word === 'and') continue;
    if (word in UNITS) {
      if (last === 'unit') return undefined; // "five six" is two numbers
      if (last === 'ten' && UNITS[word]! >= 10) return undefined; // "twenty twelve"
      current += UNITS[word]!;
      last = 'unit';
    } else if (word in TENS) {
      if (last === 'unit' || last === 'ten') return undefined;
      current += TENS[word]!;
      last = 'ten';
    } else if (word in SCALES) {
      const scale = SCALES[word]!;
      if (scale === 100) current = (current || 1) * 100;
      else {
        total += (current || 1) * scale;
        current = 0;
      }
      last = 'scale';
    } else return undefined;
    seen = true;
  }
  return seen ? total + current : undefined;
}

/** Replaces spoken numbers with digits: "what is seventeen plus twenty-five" → "what is 17 plus 25". */
export function replaceNumberWords(text: string): string {
  // "1,250" → "1250"; "twenty-five" → "twenty five"
  const words = text
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/\b([a-z]+)-([a-z]+)\b/gi, '$1 $2')
    .split(/\s+/)
    .filter((w) => w !== '');
  const lower = words.map((w) => w.toLowerCase());
  const out: string[] = [];
  let i = 0;
  while (i < words.length) {
    // "a hundred", "a thousand"
    const article = (lower[i] === 'a' || lower[i] === 'an') && (lower[i + 1] ?? '') in SCALES;
    if (!isNumberWord(lower[i]!) && !article) {
      out.push(words[i]!);
      i++;
      continue;
    }
    // the longest run of number words starting here; "and" only inside one ("one hundred and twelve")
    const run: string[] = article ? ['one'] : [];
    let j = article ? i + 1 : i;
    while (j < words.length) {
      const w = lower[j]!;
      const joins = w === 'and' && run.some((r) => r in SCALES) && isNumberWord(lower[j + 1] ?? '') && !((lower[j + 1] ?? '') in SCALES);
      if (!isNumberWord(w) && !joins) break;
      run.push(w);
      j++;
    }
    const value = parseNumberWords(run);
    if (value === undefined) {
      out.push(words[i]!);
      i++;
      continue;
    }
    let digits = String(value);
    // "two point five" → "2.5"
    if (lower[j] === 'point') {
      const decimals: string[] = [];
      let k = j + 1;
      while (k < words.length && DIGIT_WORDS[lower[k]!] !== undefined) decimals.push(DIGIT_WORDS[lower[k++]!]!);
      if (decimals.length > 0) {
        digits = `${value}.${decimals.join('')}`;
        j = k;
      }
    }
    out.push(digits);
    i = j;
  }
  return out.join(' ');
}

/** A number for speech: integers as they are, others rounded to what a listener can take in. */
export function formatSpokenNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : Math.max(2, 1 - Math.floor(Math.log10(abs)) + 1);
  return String(Number(value.toFixed(Math.min(digits, 10))));
}
