import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SENTENCE_CHARS, speakingUnits, splitClauses, splitSentences } from './text.js';

test('sentences split at terminal punctuation, not at abbreviations, initials or decimals', () => {
  assert.deepEqual(splitSentences('Hello there. How are you? Fine!'), ['Hello there.', 'How are you?', 'Fine!']);
  assert.deepEqual(splitSentences('Dr. Smith met J. Jones at 3.30 pm. Then they left.'), ['Dr. Smith met J. Jones at 3.30 pm.', 'Then they left.']);
  assert.deepEqual(splitSentences('no final punctuation'), ['no final punctuation']);
  assert.deepEqual(splitSentences('First paragraph\n\nSecond one'), ['First paragraph', 'Second one']);
  assert.deepEqual(splitSentences('   '), []);
});

test('very long sentences are cut below the limit at commas or spaces', () => {
  const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  const parts = splitSentences(long);
  assert.ok(parts.length > 1);
  for (const p of parts) assert.ok(p.length <= MAX_SENTENCE_CHARS);
  assert.equal(parts.join(' '), long);
  const blob = 'x'.repeat(1000);
  assert.deepEqual(splitSentences(blob).map((p) => p.length), [400, 400, 200]);
});

test('clauses keep their punctuation; numbers and abbreviations stay whole', () => {
  assert.deepEqual(splitClauses('Hello there, how are you?'), [
    { text: 'Hello there', punctuation: ',' },
    { text: 'how are you', punctuation: '?' },
  ]);
  assert.deepEqual(splitClauses('It costs 1,000.50 dollars; really.'), [
    { text: 'It costs 1,000.50 dollars', punctuation: ';' },
    { text: 'really', punctuation: '.' },
  ]);
  assert.deepEqual(splitClauses('Dr. Smith is here…'), [{ text: 'Dr. Smith is here', punctuation: '.' }]);
  assert.deepEqual(splitClauses('?!...'), []);
  assert.deepEqual(splitClauses('Wait?!'), [{ text: 'Wait', punctuation: '!' }]);
});

test('a first sentence is spoken in two parts: at a clause mark among its first words, or when long', () => {
  const first = (text: string) => speakingUnits(text, { shortFirstChunk: true }).map((unit) => unit.text);
  assert.deepEqual(first('Sure, I can help with that.'), ['Sure,', 'I can help with that.']);
  assert.deepEqual(first('Well, that is it. Bye.'), ['Well,', 'that is it.', 'Bye.']);
  assert.deepEqual(first('It is 2:46 pm, utc.'), ['It is 2:46 pm, utc.'], 'too short a rest: one part');
  assert.deepEqual(first('Yes, sure.'), ['Yes, sure.'], 'too short a sentence: one part');
  assert.deepEqual(first('I can help you book a table for four people tonight.'), ['I can help you', 'book a table for four people tonight.'], 'a long one without a clause mark');
  assert.deepEqual(first('I would like to go to the beach tomorrow.'), ['I would like', 'to go to the beach tomorrow.'], 'before a word that starts a phrase');
  assert.deepEqual(speakingUnits('Sure, I can help with that.').map((unit) => unit.text), ['Sure, I can help with that.'], 'only when asked');
});
