/**
 * When is a pause the end of the user's turn? In smart-turn mode two judges look at it: the
 * end-of-turn model hears how the turn sounds (its probability of being complete), and the
 * transcript so far says how it reads. A sentence that stops on a word no sentence ends on
 * ("a table for", "my name is") is not over, whatever the model heard; otherwise the model
 * decides. A turn that is judged not over still ends after the VAD's maximum silence.
 */

/** Words an English sentence does not end on: articles, prepositions, conjunctions, auxiliaries. */
const UNFINISHED_LAST_WORDS = new Set(
  (
    'a an the to for of in on at with from by into onto about than as and or but so because if that which whose ' +
    'my your our their his her its is are was were am be been being could would should can will must might may shall do does did ' +
    "i'm you're we're they're it's let's"
  ).split(' '),
);

/** The transcript stops on a word that leaves the sentence open. */
export function endsUnfinished(transcript: string): boolean {
  const words = transcript.toLowerCase().replace(/[’]/g, "'").match(/[a-z']+/g);
  const last = words?.at(-1);
  return last !== undefined && UNFINISHED_LAST_WORDS.has(last);
}

export interface PauseJudgment {
  /** the end-of-turn model's P(complete) */
  probability: number;
  /** the transcript of the turn so far */
  transcript: string;
}

/** Does this pause end the turn? No words at all (a noise, a breath) end it at once: there is nothing to wait for. */
export function pauseEndsTurn(judgment: PauseJudgment, threshold: number): boolean {
  if (!/[a-z0-9]/i.test(judgment.transcript)) return true;
  return judgment.probability >= threshold && !endsUnfinished(judgment.transcript);
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
