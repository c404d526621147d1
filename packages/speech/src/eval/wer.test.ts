import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusWer, normalizeForWer, numberToWords, wordErrors } from './wer.js';

test('numbers are spelled out without "and"', () => {
  assert.equal(numberToWords(0), 'zero');
  assert.equal(numberToWords(42), 'forty two');
  assert.equal(numberToWords(365), 'three hundred sixty five');
  assert.equal(numberToWords(1000), 'one thousand');
  assert.equal(numberToWords(2024), 'two thousand twenty four');
});

test('normalization makes digits, words, case and punctuation compare equal', () => {
  assert.deepEqual(normalizeForWer('There are 365 days.'), normalizeForWer('there are three hundred and sixty-five days'));
  assert.deepEqual(normalizeForWer("It's 1,000 o'clock!"), ['its', 'one', 'thousand', 'oclock']);
  assert.deepEqual(normalizeForWer('Dr. Smith'), normalizeForWer('Doctor Smith'));
});

test('word errors count substitutions, deletions and insertions', () => {
  assert.equal(wordErrors('the cat sat', 'the cat sat').errors, 0);
  assert.equal(wordErrors('the cat sat', 'the bat sat').errors, 1);
  assert.equal(wordErrors('the cat sat', 'the sat').errors, 1);
  assert.equal(wordErrors('the cat sat', 'the cat sat down').errors, 1);
  assert.equal(wordErrors('', '').wer, 0);
  assert.equal(wordErrors('', 'noise').wer, 1);
  const total = corpusWer([
    { reference: 'a b c d', hypothesis: 'a b c d' },
    { reference: 'e f', hypothesis: 'e' },
  ]);
  assert.equal(total.errors, 1);
  assert.equal(total.referenceWords, 6);
});
