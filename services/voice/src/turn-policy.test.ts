import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKCHANNELS, endsUnfinished, isBackchannel, pauseVerdict, readsComplete } from './turn-policy.js';

test('a transcript that stops on an article, preposition, conjunction or auxiliary is unfinished', () => {
  for (const text of ["I'd like to book a table for", 'What is the weather like in?', 'My name is.', 'So I was thinking that maybe we could', 'Tea or', 'I want the']) {
    assert.equal(endsUnfinished(text), true, text);
  }
  for (const text of ['What is the weather like in Paris today?', 'Please tell me a story.', 'Can you tell me', "That's it", '', 'Okay!']) {
    assert.equal(endsUnfinished(text), false, text);
  }
});

test('a pause ends the turn when the model says complete and the words do not leave the sentence open', () => {
  assert.equal(pauseVerdict({ probability: 0.98, transcript: 'Please tell me a story.' }, 0.5), 'over');
  assert.equal(pauseVerdict({ probability: 0.98, transcript: "I'd like to book a table for" }, 0.5), 'not-over', 'the words win over a confident model');
  assert.equal(pauseVerdict({ probability: 0.5, transcript: 'Yes.' }, 0.5), 'over', 'the threshold itself counts as complete');
  assert.equal(pauseVerdict({ probability: 0.1, transcript: '' }, 0.5), 'over', 'no words: nothing to wait for');
});

test('the model hears the speaker going on but the words read finished: over if the user stays quiet', () => {
  assert.equal(pauseVerdict({ probability: 0.02, transcript: 'What is the weather like in Paris today?' }, 0.5), 'over-if-quiet');
  assert.equal(pauseVerdict({ probability: 0.2, transcript: 'Please tell me a story.' }, 0.5), 'over-if-quiet');
  assert.equal(pauseVerdict({ probability: 0.02, transcript: 'My name is.' }, 0.5), 'not-over', 'a period after an open word');
  assert.equal(pauseVerdict({ probability: 0.02, transcript: 'I was thinking...' }, 0.5), 'not-over', 'trailing off');
  assert.equal(pauseVerdict({ probability: 0.02, transcript: 'and then we could go' }, 0.5), 'not-over', 'no end of sentence');
});

test('a finished sentence ends in . ? or ! on a word a sentence can end on', () => {
  for (const text of ['What time is it?', 'Thank you.', 'Stop!', '"That is all."', 'It costs 40.']) assert.equal(readsComplete(text), true, text);
  for (const text of ['What time is it', 'Well...', 'Well…', 'My name is.', 'The price is $.', '']) assert.equal(readsComplete(text), false, text);
});

test('backchannels: a few listening words; anything more, or any other word, takes the turn', () => {
  const list = new Set(DEFAULT_BACKCHANNELS.split(','));
  for (const text of ['Mm-hmm.', 'Yeah.', 'Okay, okay.', 'Right.', 'I see.', 'Uh-huh']) assert.equal(isBackchannel(text, list, 3), true, text);
  for (const text of ['Stop.', 'Yeah, but what about tomorrow?', 'Okay okay okay okay', '', 'No.']) assert.equal(isBackchannel(text, list, 3), false, text);
});
