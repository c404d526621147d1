/**
 * What the user said about themselves earlier in the conversation ("My name is Alice and I live
 * in Paris"), or what the request's user_profile says. The latest statement wins ("actually, call
 * me Al"). The brain answers "what is my name?" from these, and tells the model about them.
 */

export interface UserFacts {
  readonly name?: string;
  readonly location?: string;
  /** "I live in X" or "I'm from X" */
  readonly locationVerb?: 'live' | 'from';
}

// what introduces a name or a place; the words after it are read case-sensitively (below)
const NAME = /\b(?:my name is|my name's|call me|you can call me|i go by)\s+/gi;
const LIVES = /\bi\s*(?:live|am living|'m living|am based|'m based|moved|have moved|'ve moved|just moved)\s+(?:in|to)\s+/gi;
const FROM = /\bi\s*(?:am|'m)\s+from\s+/gi;
// "I'm Omar" names the user only when the word is capitalised and is not a state ("I'm Fine")
const I_AM = /\b(?:I'm|I am)\s+(?=\p{Lu})/gu;
const NOT_NAMES = new Set(['fine', 'good', 'great', 'okay', 'ok', 'sorry', 'here', 'back', 'ready', 'not', 'so', 'just', 'really', 'very', 'happy', 'sad', 'tired', 'hungry', 'done', 'sure', 'glad', 'going', 'looking', 'trying', 'calling', 'from', 'in', 'at', 'a', 'an', 'the', 'well', 'alright', 'busy', 'new', 'curious', 'interested', 'wondering', 'asking', 'thinking']);
// words that end a name or place even when a transcript capitalises them ("Paris And I …")
const STOP = new Set(['and', 'but', 'so', 'thanks', 'thank', 'please', 'now', 'today', 'too', 'also', 'i', 'the', 'what', 'where', 'how', 'who', 'nice', 'by']);

/** The first word after `at`, and the capitalised words that follow it ("Alice Smith", "New York"). */
function phraseAt(source: string, at: number): string | undefined {
  const words: string[] = [];
  for (const raw of source.slice(at).split(/\s+/)) {
    const word = raw.replace(/[^\p{L}'.-]+$/u, '');
    const ended = word !== raw; // punctuation after it ends the phrase
    if (!/^\p{L}[\p{L}'.-]*$/u.test(word) || STOP.has(word.toLowerCase())) break;
    if (words.length > 0 && !/^\p{Lu}/u.test(word)) break;
    words.push(word.replace(/[.'-]+$/, ''));
    if (ended || words.length === 3) break;
  }
  if (words.length === 0) return undefined;
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

function lastPhrase(source: string, trigger: RegExp): string | undefined {
  let found: string | undefined;
  for (const match of source.matchAll(trigger)) found = phraseAt(source, match.index! + match[0].length) ?? found;
  return found;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** The facts, from the profile first and then each user turn in order (later ones override). */
export function factsFrom(turns: readonly { readonly user: string }[], profile?: Readonly<Record<string, unknown>>): UserFacts {
  let name = text(profile?.['name']) ?? text(profile?.['first_name']);
  let location = text(profile?.['location']) ?? text(profile?.['city']);
  let locationVerb: UserFacts['locationVerb'] = location ? 'live' : undefined;
  for (const turn of turns) {
    const introduced = lastPhrase(turn.user, I_AM);
    name = lastPhrase(turn.user, NAME) ?? (introduced && !NOT_NAMES.has(introduced.split(' ')[0]!.toLowerCase()) ? introduced : undefined) ?? name;
    const lives = lastPhrase(turn.user, LIVES);
    const from = lastPhrase(turn.user, FROM);
    if (lives) [location, locationVerb] = [lives, 'live'];
    else if (from) [location, locationVerb] = [from, 'from'];
  }
  return { ...(name ? { name } : {}), ...(location ? { location, locationVerb: locationVerb ?? 'live' } : {}) };
}

/** One line for the model's context, or undefined when nothing is known. */
export function describeFacts(facts: UserFacts): string | undefined {
  const parts = [
    ...(facts.name ? [`the user's name is ${facts.name}`] : []),
    ...(facts.location ? [facts.locationVerb === 'from' ? `the user is from ${facts.location}` : `the user lives in ${facts.location}`] : []),
  ];
  return parts.length > 0 ? `Remember: ${parts.join('; ')}.` : undefined;
}
