/**
 * When is a pause the end of the user's turn? In smart-turn mode two judges look at it: the
 * end-of-turn model hears how the turn sounds (its probability of being complete), and the
 * transcript so far says how it reads. A sentence that stops on a word no sentence ends on
 * ("a table for", "my name is") is not over, whatever the model heard. Otherwise the model
 * decides; when it hears the speaker going on but the words read as a finished sentence ("What
 * is the weather like in Paris today?"), the judges disagree, and the turn ends if the user stays
 * quiet a little longer (VOICE_TURN_TEXT_SILENCE_MS) rather than after the VAD's maximum silence.
 */

/** Words an English sentence does not end on: articles, prepositions, conjunctions, auxiliaries. */
const UNFINISHED_LAST_WORDS = new Set(
  (
    'a an the to for of in on at with from by into onto about than as and or but so because if that which whose ' +
    'my your our their his her its is are was were am be been being could would should can will must might may shall do does did ' +
    "i'm you're we're they're it's let's"
  ).split(' '),
);


export interface PauseJudgment {
  /** the end-of-turn model's P(complete) */
  probability: number;
  /** the transcript of the turn so far */
  transcript: string;
}

/**
 * Words a sentence may end on but often goes on from: prepositions that can close a sentence
 * ("what is it like", "pick it up"). Words alone do not end a turn on one of them; the model must.
 */
const OPEN_LAST_WORDS = new Set('like up out off over around through after before near down back along across past since until under'.split(' '));

const lastWord = (transcript: string) => transcript.toLowerCase().replace(/[’]/g, "'").match(/[a-z']+/g)?.at(-1);

/** The transcript stops on a word that leaves the sentence open. */
export function endsUnfinished(transcript: string): boolean {
  const last = lastWord(transcript);
  return last !== undefined && UNFINISHED_LAST_WORDS.has(last);
}

/**
 * A finished sentence, by its words alone: it ends in . ? or ! (not a trailing "..."), on a word
 * a sentence ends on and seldom goes on from.
 */
export function readsComplete(transcript: string): boolean {
  const text = transcript.trim().replace(/["'”’)]+$/, '');
  const last = lastWord(text);
  return /[a-z0-9][.?!]$/i.test(text) && last !== undefined && !endsUnfinished(text) && !OPEN_LAST_WORDS.has(last);
}

/** over: the turn ends now; over-if-quiet: it ends after a little more silence; not-over: keep listening. */
export type PauseVerdict = 'over' | 'over-if-quiet' | 'not-over';

/** What this pause is. No words at all (a noise, a breath) end the turn at once: there is nothing to wait for. */
export function pauseVerdict(judgment: PauseJudgment, threshold: number): PauseVerdict {
  if (!/[a-z0-9]/i.test(judgment.transcript)) return 'over';
  if (endsUnfinished(judgment.transcript)) return 'not-over';
  if (judgment.probability >= threshold) return 'over';
  return readsComplete(judgment.transcript) ? 'over-if-quiet' : 'not-over';
}

/**
 * Words the user says while the agent speaks to show they are listening, not to take the turn
 * ("mm-hmm", "yeah", "okay"): at most `maxWords` words, every one of them in `backchannels`.
 */
export function isBackchannel(transcript: string, backchannels: ReadonlySet<string>, maxWords: number): boolean {
  const words = transcript.toLowerCase().replace(/[’]/g, "'").match(/[a-z'-]+/g) ?? [];
  if (words.length === 0 || words.length > maxWords) return false;
  return words.every((word) => backchannels.has(word.replace(/^-+|-+$/g, '')));
}

export const DEFAULT_BACKCHANNELS = 'mm,mmm,mm-hmm,mhm,hmm,uh-huh,uh,um,yeah,yep,yes,okay,ok,right,sure,alright,i,see,got,it,oh,ah,aha,cool,nice,wow';
