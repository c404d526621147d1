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

/** Does this pause end the turn? */
export function pauseEndsTurn(judgment: PauseJudgment, threshold: number): boolean {
  return judgment.probability >= threshold && !endsUnfinished(judgment.transcript);
}
