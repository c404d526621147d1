import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CappedSentences, SentenceSplitter, asksForDetail, cutRunaway, joinSentences, speakable } from './sentences.js';

function splitStreaming(pieces: string[]): { emittedAt: number[]; sentences: string[] } {
  const splitter = new SentenceSplitter();
  const sentences: string[] = [];
  const emittedAt: number[] = [];
  pieces.forEach((piece, index) => {
    for (const s of splitter.push(piece)) {
      sentences.push(s);
      emittedAt.push(index);
    }
  });
  for (const s of splitter.flush()) {
    sentences.push(s);
    emittedAt.push(pieces.length);
  }
  return { emittedAt, sentences };
}

test('emits each sentence as soon as the whitespace after its punctuation arrives', () => {
  const { sentences, emittedAt } = splitStreaming(['It is', ' sunny.', ' Take a', ' hat! Really?', ' Yes']);
  assert.deepEqual(sentences, ['It is sunny.', 'Take a hat!', 'Really?', 'Yes']);
  assert.deepEqual(emittedAt, [2, 3, 4, 5]);
});

test('a sentence whose terminator is the last character waits for more text or flush', () => {
  const splitter = new SentenceSplitter();
  assert.deepEqual(splitter.push('Done.'), []);
  assert.deepEqual(splitter.flush(), ['Done.']);
  assert.deepEqual(splitter.flush(), []);
});

test('does not split decimals, abbreviations, initials or list numbers', () => {
  const text = 'Pi is 3.14 roughly. Dr. Smith met J. Doe at 5 p.m. yesterday.\n1. Buy milk\n2. Call mom';
  const { sentences } = splitStreaming(text.split(''));
  assert.deepEqual(sentences, ['Pi is 3.14 roughly.', 'Dr. Smith met J. Doe at 5 p.m. yesterday.', '1. Buy milk', '2. Call mom']);
});

test('a year ending a sentence still ends it', () => {
  const { sentences } = splitStreaming(['It opened in 2019. Then', ' it closed.']);
  assert.deepEqual(sentences, ['It opened in 2019.', 'Then it closed.']);
});

test('closing quotes stay with their sentence; ellipsis ends a sentence', () => {
  const { sentences } = splitStreaming(['He said "stop." Then', ' silence… Then more (really!) ok']);
  assert.deepEqual(sentences, ['He said "stop."', 'Then silence…', 'Then more (really!)', 'ok']);
});

test('joined sentences equal the normalised text, whatever the chunking', () => {
  const text = 'Hello there.  How are you today? I am fine!\n\nBye.';
  const bySentence = splitStreaming([text]).sentences;
  const byChar = splitStreaming(text.split('')).sentences;
  assert.deepEqual(byChar, bySentence);
  assert.equal(joinSentences(byChar), 'Hello there. How are you today? I am fine! Bye.');
});

test('whitespace-only input yields nothing', () => {
  const { sentences } = splitStreaming(['  ', '\n', ' ']);
  assert.deepEqual(sentences, []);
});

test('speakable: markdown, list markers, links and emoji do not reach TTS', () => {
  assert.equal(speakable('**Paris** is the _capital_ of France 🇫🇷!'), 'Paris is the capital of France!');
  assert.equal(speakable('- First, `npm start` 😀'), 'First, npm start');
  assert.equal(speakable('2. See [the docs](https://example.com).'), 'See the docs.');
  assert.equal(speakable('### Summary'), 'Summary');
  assert.equal(speakable('🎉✨'), '');
});

test('voice-length cap: sentences and words, the first sentence always; detail asked for is told apart', () => {
  const cap = new CappedSentences({ maxSentences: 3, maxWords: 12 });
  assert.equal(cap.take('One two three four five.'), true);
  assert.equal(cap.take('Six seven eight nine ten eleven twelve thirteen.'), false, 'would pass 12 words');
  assert.equal(cap.full, true);
  const long = new CappedSentences({ maxSentences: 2, maxWords: 5 });
  assert.equal(long.take('A first sentence of far more than five words.'), true, 'the first sentence is always spoken');
  assert.equal(long.full, true);
  assert.equal(cutRunaway('one two three', 5), undefined);
  assert.equal(cutRunaway('Der Königin der deutschen Reich, der deutsche Volk der deutsche', 6), 'Der Königin der deutschen Reich.');
  assert.equal(cutRunaway('a b c d e f g h', 4), 'a b c d.');
  assert.equal(asksForDetail('Tell me a story about a dragon'), true);
  assert.equal(asksForDetail('Explain it in detail please'), true);
  assert.equal(asksForDetail('What is the capital of France?'), false);
});
