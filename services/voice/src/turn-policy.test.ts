import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endsUnfinished, pauseEndsTurn } from './turn-policy.js';

test('a transcript that stops on an article, preposition, conjunction or auxiliary is unfinished', () => {
  for (const text of ["I'd like to book a table for", 'What is the weather like in?', 'My name is.', 'So I was thinking that maybe we could', 'Tea or', 'I want the']) {
    assert.equal(endsUnfinished(text), true, text);
  }
  for (const text of ['What is the weather like in Paris today?', 'Please tell me a story.', 'Can you tell me', "That's it", '', 'Okay!']) {
    assert.equal(endsUnfinished(text), false, text);
  }
});

test('a pause ends the turn when the model says complete and the words do not leave the sentence open', () => {
  assert.equal(pauseEndsTurn({ probability: 0.98, transcript: 'Please tell me a story.' }, 0.5), true);
  assert.equal(pauseEndsTurn({ probability: 0.98, transcript: "I'd like to book a table for" }, 0.5), false, 'the words win over a confident model');
  assert.equal(pauseEndsTurn({ probability: 0.2, transcript: 'Please tell me a story.' }, 0.5), false, 'the model says the speaker is not done');
  assert.equal(pauseEndsTurn({ probability: 0.5, transcript: 'Yes.' }, 0.5), true, 'the threshold itself counts as complete');
});
