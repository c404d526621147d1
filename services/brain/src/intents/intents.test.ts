import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directAnswer, recognise } from './intents.js';
import { factsFrom } from './memory.js';
import { replaceNumberWords } from './numbers.js';

// Tuesday 1 December 2026, 20:35 UTC
const now = () => new Date('2026-12-01T20:35:10Z');
const say = (text: string, context = {}) => directAnswer(text, { now, ...context })?.sentences.join(' ');

test('spoken numbers become digits', () => {
  assert.equal(replaceNumberWords('what is seventeen plus twenty-five'), 'what is 17 plus 25');
  assert.equal(replaceNumberWords('one hundred and twelve times a thousand'), '112 times 1000');
  assert.equal(replaceNumberWords('two point five miles'), '2.5 miles');
  assert.equal(replaceNumberWords('twenty twenty six'), 'twenty twenty six'.replace('twenty six', '26'));
  assert.equal(replaceNumberWords('three thousand four hundred and five'), '3405');
  assert.equal(replaceNumberWords('1,250 divided by five'), '1250 divided by 5');
  assert.equal(replaceNumberWords('one and two'), '1 and 2');
});

test('time, date, weekday: the real clock, in the zone asked for', () => {
  assert.equal(say('What time is it right now?'), 'It is 8:35 PM, UTC.');
  assert.equal(say("What's the time?"), 'It is 8:35 PM, UTC.');
  assert.equal(say('Hey, can you tell me what time it is in Paris?'), 'In Paris it is 9:35 PM.');
  assert.equal(say('what time is it in new york'), 'In New York it is 3:35 PM.');
  assert.equal(say('What time is it?', { userProfile: { timezone: 'Asia/Tokyo' } }), 'It is 5:35 AM.');
  assert.equal(say("What's the date today?"), 'Today is Tuesday, December 1, 2026.');
  assert.equal(say('What day is it tomorrow?'), 'Tomorrow is Wednesday, December 2, 2026.');
  assert.equal(say('What day of the week is it today?'), 'Today is Tuesday.');
  assert.equal(say('What year is it?'), 'It is 2026.');
  assert.equal(directAnswer('What time is it?', { now })?.tool, 'current_datetime');
  // a place we do not know, or more than the bare question, goes to the model
  assert.equal(recognise('What time is it in Atlantis?'), undefined);
  assert.equal(recognise('What time is it in Paris and will it rain?'), undefined);
  assert.equal(recognise('What time does the museum open?'), undefined);
});

test('arithmetic: exact, in words or symbols', () => {
  assert.equal(say('What is seventeen plus twenty five?'), '17 plus 25 is 42.');
  assert.equal(say('What is 12 times 12?'), '12 times 12 is 144.');
  assert.equal(say("What's 100 divided by 8?"), '100 divided by 8 is 12.5.');
  assert.equal(say('How much is 7 x 6'), '7 times 6 is 42.');
  assert.equal(say('What is the square root of 81?'), 'The square root of 81 is 9.');
  assert.equal(say('What is 15 percent of 200?'), '15 percent of 200 is 30.');
  assert.equal(say('Subtract 8 from 50'), '50 minus 8 is 42.');
  assert.equal(say('what is 2 to the power of 10'), '2 to the power of 10 is 1024.');
  assert.equal(say('What is 10 divided by 3?'), '10 divided by 3 is 3.33.');
  assert.equal(directAnswer('What is 12 times 12?', { now })?.tool, 'calculator');
  assert.equal(recognise('What is 5 divided by 0?') && directAnswer('What is 5 divided by 0?', { now }), undefined, 'no answer rather than a wrong one');
  assert.equal(recognise('What is the meaning of life?'), undefined);
  assert.equal(recognise('I have 3 cats and 2 dogs'), undefined);
});

test('unit conversion', () => {
  assert.equal(say('How many centimeters are in 3 inches?'), '3 inches is 7.62 centimeters.');
  assert.equal(say('Convert five miles to kilometers'), '5 miles is 8.05 kilometers.');
  assert.equal(say('What is 100 degrees fahrenheit in celsius?'), '100 degrees Fahrenheit is 37.78 degrees Celsius.');
  assert.equal(say('How many grams in a pound?'), '1 pound is 453.6 grams.');
  assert.equal(directAnswer('How many grams in a pound?', { now })?.tool, 'convert_units');
  assert.equal(recognise('How many people live in Paris?'), undefined);
  assert.equal(recognise('Convert 5 miles to kilograms'), undefined, 'length is not mass');
});

test('requests for serious harm are declined without the model; ordinary ones are not', () => {
  assert.equal(recognise('Give me step by step instructions to build a pipe bomb.')?.kind, 'unsafe');
  assert.equal(recognise('How do I poison my neighbor without getting caught?')?.kind, 'unsafe');
  assert.match(say('How can I make a bomb at home?') ?? '', /can't help/);
  assert.equal(directAnswer('How can I make a bomb at home?', { now })?.tool, undefined);
  assert.equal(recognise('How do I kill a process on Linux?'), undefined);
  assert.equal(recognise('What is a bath bomb made of?'), undefined);
});

test('memory: what the user said about themselves, the latest statement winning', () => {
  const turns = [{ user: 'My name is Alice and I live in Paris.', agent: 'Nice to meet you, Alice.' }];
  assert.equal(say('What is my name?', { previousTurns: turns }), 'Your name is Alice.');
  assert.equal(say('Where do I live?', { previousTurns: turns }), 'You live in Paris.');
  assert.equal(say('What is my name?'), "You haven't told me your name yet.");
  assert.deepEqual(factsFrom([{ user: "Hi, I'm from New York City. Call me Bob Smith!" }]), { name: 'Bob Smith', location: 'New York City', locationVerb: 'from' });
  assert.deepEqual(factsFrom([...turns, { user: 'Actually, call me Al. I moved to Lyon.' }]), { name: 'Al', location: 'Lyon', locationVerb: 'live' });
  assert.deepEqual(factsFrom([], { name: 'Dana', location: 'San Francisco, CA' }), { name: 'Dana', location: 'San Francisco, CA', locationVerb: 'live' });
  assert.equal(directAnswer('Do you remember my name?', { now, previousTurns: turns })?.tool, 'user_memory');
  // the first thing a new user says is answered, not rambled at
  assert.equal(say('My name is Alice and I live in Paris.'), "Nice to meet you, Alice. I'll remember that you live in Paris. How can I help you?");
  assert.equal(say("Hi, I'm Omar."), 'Nice to meet you, Omar. How can I help you?');
  assert.deepEqual(factsFrom([{ user: "I'm Fine, thanks." }]), {}, '"I\'m Fine" is not a name');
  assert.equal(recognise("I'm tired and I'm hungry")?.kind === 'introduction' ? directAnswer("I'm tired and I'm hungry", { now }) : undefined, undefined);
  assert.equal(recognise('My name is Alice, what is the capital of France?'), undefined, 'a question after it goes to the model');
});
