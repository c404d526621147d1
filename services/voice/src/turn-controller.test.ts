/** The turn state machine with fake ports and a fake clock: no servers, milliseconds per test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@arc/testkit';
import type { BrainPartial, BrainResponse, TtsCompleted, VoiceErrorType } from '@arc/contracts';
import { DEFAULT_BACKCHANNELS, isBackchannel } from './turn-policy.js';
import { TurnController, type BrainTurnRequest, type Clock, type SpokenSentence } from './turn-controller.js';

class FakeClock implements Clock {
  private time = 1_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = until;
  }
}

class NoWorker extends Error {}

function setup(options: { brainTimeoutMs?: number; failSpeak?: (s: SpokenSentence) => Error | undefined; backchannels?: boolean } = {}) {
  const clock = new FakeClock();
  const brain: BrainTurnRequest[] = [];
  const spoken: SpokenSentence[] = [];
  const cancels: string[] = [];
  const brainCancels: { requestId: string; reason: string }[] = [];
  const errors: { type: VoiceErrorType; requestId?: string }[] = [];
  const notices: string[] = [];
  let ids = 0;
  const controller = new TurnController({
    clock,
    logger: silentLogger,
    brainTimeoutMs: options.brainTimeoutMs ?? 4_000,
    fallbackResponse: 'Sorry, try again.',
    maxPreviousTurns: 10,
    ...(options.backchannels ? { isBackchannel: (text: string) => isBackchannel(text, new Set(DEFAULT_BACKCHANNELS.split(',')), 3) } : {}),
    newRequestId: () => `req-${++ids}`,
    newTraceId: () => `trace-${ids}`,
    ports: {
      requestBrain: (request) => void brain.push(request),
      speak: async (sentence) => {
        spoken.push(sentence);
        const failure = options.failSpeak?.(sentence);
        if (failure) throw failure;
      },
      cancelSpeech: (_trace, reason) => void cancels.push(reason),
      cancelThinking: (requestId, _trace, reason) => void brainCancels.push({ requestId, reason }),
      reportError: (type, _message, requestId) => void errors.push({ type, ...(requestId ? { requestId } : {}) }),
      isNoWorker: (error) => error instanceof NoWorker,
      noticeBusy: (traceId) => void notices.push(traceId),
    },
  });
  /** the user says something: VAD start and end, then its transcript */
  const say = (text: string) => {
    controller.speechStarted();
    controller.speechEnded();
    controller.transcript(text, clock.now());
  };
  const partial = (requestId: string, sequence: number, text: string) =>
    controller.brainPartial({ request_id: requestId, sequence, text } as BrainPartial);
  const response = (requestId: string, text: string) => controller.brainResponse({ request_id: requestId, agent_response: text } as BrainResponse);
  const completed = (requestId: string, extra: Partial<TtsCompleted> = {}) =>
    controller.ttsCompleted({ request_id: requestId, status: 'completed', time_to_first_audio_ms: 100, ...extra } as TtsCompleted);
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { clock, controller, brain, spoken, cancels, brainCancels, errors, notices, say, partial, response, completed, flush };
}

test('a turn: transcript → brain request → sentences spoken in order → completions → listening, with history', () => {
  const t = setup();
  assert.equal(t.controller.current, 'listening');
  t.controller.speechStarted();
  assert.equal(t.controller.current, 'user_speaking');
  t.controller.speechEnded();
  assert.equal(t.controller.current, 'transcribing');
  t.controller.transcript('What time is it?', t.clock.now());
  assert.equal(t.controller.current, 'thinking');
  assert.equal(t.brain.length, 1);
  assert.deepEqual(t.brain[0]!.previousTurns, []);
  t.clock.advance(300);
  t.partial('req-1', 0, 'It is nine.');
  assert.equal(t.controller.current, 'agent_speaking');
  t.partial('req-1', 1, 'Anything else?');
  t.response('req-1', 'It is nine. Anything else?');
  assert.deepEqual(t.spoken.map((s) => s.text), ['It is nine.', 'Anything else?']);
  assert.deepEqual(t.spoken.map((s) => s.requestId), ['req-1-s0', 'req-1-s1']);
  t.completed('req-1-s0');
  assert.equal(t.controller.current, 'agent_speaking', 'one sentence is still playing');
  t.completed('req-1-s1');
  assert.equal(t.controller.current, 'listening');
  assert.deepEqual(t.controller.voiceToVoiceSamples, [400], 'speech end → sent at +300 ms, first audio 100 ms later');

  t.say('And tomorrow?');
  assert.deepEqual(t.brain[1]!.previousTurns, [{ user: 'What time is it?', agent: 'It is nine. Anything else?' }]);
  assert.equal(t.brain[1]!.turnIndex, 1);
});

test('out-of-order partials are spoken in sequence; a duplicate is ignored', () => {
  const t = setup();
  t.say('Tell me three things.');
  t.partial('req-1', 2, 'Three.');
  t.partial('req-1', 1, 'Two.');
  assert.equal(t.spoken.length, 0, 'nothing before sentence 0');
  t.partial('req-1', 0, 'One.');
  t.partial('req-1', 0, 'One.');
  assert.deepEqual(t.spoken.map((s) => s.text), ['One.', 'Two.', 'Three.']);
  t.response('req-1', 'One. Two. Three.');
  assert.equal(t.spoken.length, 3, 'the full answer is not spoken again');
});

test('barge-in: speech over the agent cancels playback, drops the rest, records only what the user heard, as interrupted', () => {
  const t = setup();
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  t.partial('req-1', 1, 'There was a town by the sea.');
  t.completed('req-1-s0');
  t.controller.speechStarted();
  assert.deepEqual(t.cancels, ['barge_in']);
  assert.deepEqual(t.brainCancels, [{ requestId: 'req-1', reason: 'barge_in' }], 'the brain, still generating, is told to stop');
  assert.equal(t.controller.current, 'user_speaking');
  t.partial('req-1', 2, 'By the sea.');
  t.response('req-1', 'Once upon a time. There was a town. By the sea.');
  assert.equal(t.spoken.length, 2, 'nothing after the barge-in is spoken');
  t.controller.speechEnded();
  // TTS reports the cut sentence: its first three words had played.
  t.completed('req-1-s1', { status: 'cancelled', played_ms: 700, heard_text: 'There was a' });
  t.controller.transcript('Stop.', t.clock.now());
  assert.deepEqual(t.brain[1]!.previousTurns, [{ user: 'Tell me a story.', agent: 'Once upon a time. There was a', interrupted: true }]);
  assert.equal(t.controller.voiceToVoiceSamples.length, 1, 'the cancelled report is not a latency sample');
});

test('a short noise with no words does not start a turn; speech while thinking: the user went on, and is asked about as a whole', () => {
  const t = setup();
  t.controller.speechStarted();
  t.controller.speechEnded();
  t.controller.transcript('  ', t.clock.now());
  assert.equal(t.controller.current, 'listening');
  assert.equal(t.brain.length, 0);

  t.say('What is the weather');
  t.say('in Paris tomorrow?');
  assert.equal(t.brain.length, 2);
  t.partial('req-1', 0, 'It is sunny.');
  t.response('req-1', 'It is sunny.');
  assert.equal(t.spoken.length, 0, 'the superseded answer is dropped');
  assert.equal(t.cancels.length, 0, 'nothing was playing');
  assert.deepEqual(t.brainCancels, [{ requestId: 'req-1', reason: 'superseded' }], 'the superseded request is cancelled at the brain');
  assert.equal(t.brain[1]!.userText, 'What is the weather in Paris tomorrow?', 'asked again with the whole of what was said');
  assert.equal(t.brain[1]!.turnIndex, 0);
  assert.deepEqual(t.brain[1]!.previousTurns, [], 'the unanswered start is not a turn of its own');
  t.response('req-2', 'It will be sunny.');
  t.completed('req-2-s0');
  assert.deepEqual(t.spoken.map((s) => s.text), ['It will be sunny.']);
  t.say('Thanks.');
  assert.deepEqual(t.brain[2]!.previousTurns, [{ user: 'What is the weather in Paris tomorrow?', agent: 'It will be sunny.' }]);

  // The user goes on, but the rest is no words (a noise): the carried words are asked about alone.
  t.response('req-3', 'You are welcome.');
  t.completed('req-3-s0');
  t.say('How about');
  t.controller.speechStarted();
  t.controller.speechEnded();
  t.controller.transcript('', t.clock.now());
  assert.equal(t.brain.at(-1)!.userText, 'How about');
});

test('brain timeout: nothing from the brain → the fallback is spoken and brain_timeout reported; a late answer is dropped', () => {
  const t = setup({ brainTimeoutMs: 4_000 });
  t.say('Hello?');
  t.clock.advance(3_999);
  assert.equal(t.spoken.length, 0);
  t.clock.advance(1);
  assert.deepEqual(t.spoken.map((s) => s.text), ['Sorry, try again.']);
  assert.deepEqual(t.errors, [{ type: 'brain_timeout', requestId: 'req-1' }]);
  t.response('req-1', 'Hello there.');
  assert.equal(t.spoken.length, 1);
  t.completed('req-1-s0');
  assert.equal(t.controller.current, 'listening');
  t.say('Again?');
  assert.equal(t.brain[1]!.previousTurns[0]!.agent, 'Sorry, try again.');
});

test('brain timeout counts from the last sentence: a long streamed answer is not cut by the fallback', () => {
  const t = setup({ brainTimeoutMs: 4_000 });
  t.say('Tell me a long story.');
  for (let i = 0; i < 5; i++) {
    t.clock.advance(3_000);
    t.partial('req-1', i, `Sentence ${i}.`);
  }
  assert.equal(t.errors.length, 0);
  t.clock.advance(4_000); // then the brain goes quiet
  assert.deepEqual(t.errors.map((e) => e.type), ['brain_timeout']);
  assert.ok(!t.spoken.some((s) => s.text === 'Sorry, try again.'), 'no fallback over half an answer');
});

test("brain error: its fallback_response is spoken and kept in the history", () => {
  const t = setup();
  t.say('What is the weather?');
  t.controller.brainError({ request_id: 'req-1', error_type: 'upstream_error', fallback_response: 'I cannot check that now.' } as never);
  assert.deepEqual(t.spoken.map((s) => s.text), ['I cannot check that now.']);
  t.clock.advance(10_000);
  assert.equal(t.errors.length, 0, 'no timeout after an error');
  t.completed('req-1-s0');
  assert.equal(t.controller.current, 'listening');
});

test('TTS worker gone or all full: no_tts_worker reported, the busy notice sent once, the turn ends instead of waiting forever', async () => {
  const t = setup({ failSpeak: () => new NoWorker('no worker took the agent.tts.request message') });
  t.say('Hello?');
  t.partial('req-1', 0, 'Hello there.');
  t.partial('req-1', 1, 'How are you?');
  t.response('req-1', 'Hello there. How are you?');
  await t.flush();
  assert.deepEqual(t.errors, [{ type: 'no_tts_worker', requestId: 'req-1' }, { type: 'no_tts_worker', requestId: 'req-1' }]);
  assert.deepEqual(t.notices, ['trace-1'], 'one notice per turn');
  assert.equal(t.controller.current, 'listening');
  const other = setup({ failSpeak: () => new Error('reply was not JSON') });
  other.say('Hello?');
  other.response('req-1', 'Hello there.');
  await other.flush();
  assert.deepEqual(other.errors.map((e) => e.type), ['tts_request_failed']);
  assert.equal(other.notices.length, 0, 'another failure is not a busy room');
});

test('a turn cut at the maximum length: its transcript arrives while the user still talks, and is answered', () => {
  const t = setup();
  t.controller.speechStarted();
  t.controller.transcript('and then we walked along the river', t.clock.now()); // the cut part
  assert.equal(t.controller.current, 'thinking');
  t.response('req-1', 'That sounds lovely.');
  t.controller.speechEnded(); // the long speech finally ends: no second turn from it
  assert.equal(t.brain.length, 1);
  assert.deepEqual(t.spoken.map((s) => s.text), ['That sounds lovely.']);
});

test('events for other requests are ignored; end() cancels what is playing and stops everything', () => {
  const t = setup();
  t.say('Hello?');
  assert.equal(t.controller.owns('req-1'), true);
  assert.equal(t.controller.owns('req-9'), false);
  t.partial('req-9', 0, 'Not for you.');
  t.completed('req-9-s0');
  assert.equal(t.spoken.length, 0);
  t.partial('req-1', 0, 'Hi.');
  assert.equal(t.controller.owns('req-1-s0'), true);
  t.controller.end('user_left');
  assert.deepEqual(t.cancels, ['user_left']);
  assert.equal(t.controller.current, 'ended');
  t.clock.advance(60_000);
  t.say('Anyone?');
  assert.equal(t.brain.length, 1, 'nothing after the end');
  assert.equal(t.errors.length, 0, 'no timer fired after the end');
});

test('a noise that stopped the agent: no words, so it goes on from the sentence it was cut in, then with what came meanwhile', () => {
  const t = setup({ backchannels: true });
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  t.partial('req-1', 1, 'There was a town.');
  t.completed('req-1-s0');
  t.controller.speechStarted(); // a cough
  assert.deepEqual(t.cancels, ['barge_in'], 'stopped at once');
  assert.deepEqual(t.brainCancels, [], 'the brain goes on until the words are known');
  t.partial('req-1', 2, 'By the sea.');
  assert.equal(t.spoken.length, 2, 'held while the user speaks');
  t.controller.speechEnded();
  t.completed('req-1-s1', { status: 'cancelled', heard_text: 'There' });
  t.controller.transcript('', t.clock.now());
  assert.deepEqual(t.spoken.slice(2).map((s) => s.text), ['There was a town.', 'By the sea.'], 'resumed from the cut sentence');
  assert.equal(t.spoken[2]!.requestId, 'req-1-s2', 'resumed sentences get new ids');
  assert.equal(t.controller.current, 'agent_speaking');
  assert.equal(t.controller.resumes, 1);
  t.response('req-1', 'Once upon a time. There was a town. By the sea.');
  t.completed('req-1-s1'); // a late report of the cut sentence changes nothing
  t.completed('req-1-s2');
  t.completed('req-1-s3');
  assert.equal(t.controller.current, 'listening');
  t.say('Nice.');
  assert.deepEqual(t.brain[1]!.previousTurns, [{ user: 'Tell me a story.', agent: 'Once upon a time. There was a town. By the sea.' }], 'not recorded as interrupted');
});

test('a backchannel over the agent resumes it; real words take the turn and cancel the brain', () => {
  const t = setup({ backchannels: true });
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  t.controller.speechStarted();
  t.controller.speechEnded();
  t.controller.transcript('Mm-hmm.', t.clock.now());
  assert.deepEqual(t.spoken.map((s) => s.text), ['Once upon a time.', 'Once upon a time.']);
  assert.equal(t.brain.length, 1, 'a backchannel is not a turn');
  t.controller.speechStarted();
  t.controller.speechEnded();
  t.completed('req-1-s1', { status: 'cancelled', heard_text: 'Once upon' });
  t.controller.transcript('Wait, what time is it?', t.clock.now());
  assert.deepEqual(t.brainCancels, [{ requestId: 'req-1', reason: 'barge_in' }]);
  assert.equal(t.brain[1]!.userText, 'Wait, what time is it?');
  assert.deepEqual(t.brain[1]!.previousTurns, [{ user: 'Tell me a story.', agent: 'Once upon', interrupted: true }]);
});

test('a backchannel between two sentences of an answer the brain is still sending: the agent goes on with the rest', () => {
  const t = setup({ backchannels: true });
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  t.completed('req-1-s0'); // all said so far has played; the next sentence is still on its way
  t.controller.speechStarted();
  t.partial('req-1', 1, 'There was a fox.');
  assert.equal(t.spoken.length, 1, 'held while the user speaks');
  t.controller.speechEnded();
  t.controller.transcript('Yeah.', t.clock.now());
  assert.deepEqual(t.spoken.map((s) => s.text), ['Once upon a time.', 'There was a fox.'], 'the answer goes on where it was');
  assert.equal(t.brain.length, 1, 'a backchannel is not a turn');
  assert.deepEqual(t.brainCancels, [], 'the brain goes on too');
});

test('barge-in on the onset: the agent stops before the sound counts as speech; an onset that fades resumes it', () => {
  const t = setup({ backchannels: true });
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  t.controller.speechOnset();
  assert.deepEqual(t.cancels, ['barge_in'], 'stopped on the onset');
  t.controller.onsetFaded();
  assert.deepEqual(t.spoken.map((s) => s.text), ['Once upon a time.', 'Once upon a time.'], 'it was nothing: resumed');
  t.controller.speechOnset();
  t.controller.speechStarted(); // this time it is speech: the words decide
  t.controller.onsetFaded();
  assert.equal(t.spoken.length, 2, 'speech, not a fading onset');
  t.controller.speechEnded();
  t.controller.transcript('Stop.', t.clock.now());
  assert.equal(t.brain.at(-1)!.userText, 'Stop.');
});

test('barge-in on sound alone: a sound that fades resumes; a burst of such false stops leaves the stopping to likely speech', () => {
  const t = setup({ backchannels: true });
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  t.controller.speechOnset(64, 'sound');
  assert.deepEqual(t.cancels, ['barge_in'], 'stopped on the sound');
  t.controller.speechOnset(128, 'speech'); // the model rates it speech now: not a false stop
  t.controller.onsetFaded();
  assert.equal(t.spoken.length, 2, 'resumed');
  for (let i = 0; i < 3; i++) {
    t.clock.advance(2_000);
    t.controller.speechOnset(64, 'sound');
    t.controller.onsetFaded();
  }
  assert.equal(t.cancels.length, 4, 'three false stops on sound');
  assert.equal(t.spoken.length, 5, 'each resumed');
  assert.equal(t.controller.soundStopsOff, true, 'three within 10 s: sound alone stops the agent no more');
  t.controller.speechOnset(64, 'sound');
  assert.equal(t.cancels.length, 4, 'sound alone: the agent goes on');
  t.controller.speechOnset(96, 'speech');
  assert.equal(t.cancels.length, 5, 'likely speech still stops it');
});

test('false stops on sound spread over time do not turn sound stops off', () => {
  const t = setup({ backchannels: true });
  t.say('Tell me a story.');
  t.partial('req-1', 0, 'Once upon a time.');
  for (let i = 0; i < 4; i++) {
    t.clock.advance(6_000);
    t.controller.speechOnset(64, 'sound');
    t.controller.onsetFaded();
  }
  assert.equal(t.cancels.length, 4);
  assert.equal(t.controller.soundStopsOff, false);
});
