/**
 * Questions with one exact answer — the time, the date, the weekday, arithmetic, unit
 * conversion, what the user said their name is — recognised in the user's words, answered by a
 * tool and phrased for speech. A small local model gets these wrong ("12 * 12 = 120"); here
 * they are exactly right, and at once.
 *
 * Recognition is deliberately narrow: the whole utterance must be the question (polite words
 * around it aside). "What time is it in Paris and will it rain?" goes to the model.
 */
import { convertUnits, findUnit, unitName } from '../tools/units.js';
import { evaluateExpression } from '../tools/calculator.js';
import { formatSpokenNumber, replaceNumberWords } from './numbers.js';
import { isZone, zoneOf } from './places.js';
import { factsFrom, type UserFacts } from './memory.js';

export type Intent =
  | { readonly kind: 'time'; readonly place?: string; readonly zone?: string }
  | { readonly kind: 'date' | 'weekday'; readonly offsetDays: number }
  | { readonly kind: 'year' | 'month' }
  | { readonly kind: 'arithmetic'; readonly expression: string; readonly spoken: string }
  | { readonly kind: 'convert'; readonly value: number; readonly from: string; readonly to: string }
  | { readonly kind: 'recall'; readonly fact: 'name' | 'location' }
  /** "My name is Alice and I live in Paris": an introduction, nothing asked */
  | { readonly kind: 'introduction'; readonly text: string }
  | { readonly kind: 'unsafe' };

export interface IntentContext {
  readonly previousTurns?: readonly { readonly user: string; readonly agent: string }[];
  readonly userProfile?: Readonly<Record<string, unknown>>;
  /** the zone to answer in when the user names none (default UTC) */
  readonly defaultZone?: string;
  readonly now?: () => Date;
}

export interface DirectAnswer {
  readonly intent: Intent['kind'];
  /** the tool that answered, reported in tools_called (none for a refusal) */
  readonly tool?: string;
  readonly sentences: readonly string[];
}

/** Lower case, punctuation gone (decimal points and arithmetic symbols kept), fillers trimmed. */
export function cleanUtterance(text: string): string {
  let s = text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/(\d)\.(\d)/g, '$1\u0000$2')
    .replace(/[?!.,;:"“”¿¡]/g, ' ')
    .replace(/\u0000/g, '.')
    .replace(/\s+/g, ' ')
    .trim();
  const lead =
    /^(hey|hi|hello|okay|ok|so|um|uh|well|alright|arc|please|excuse me|sorry|quick question|and|but|now|also)\b\s*|^(can|could|would|will) you (please )?(tell me|say|let me know)\s*|^(do you know|tell me|i'd like to know|i would like to know|i want to know|i wonder|let me know)\b\s*/;
  const trail = /\s*\b(please|thanks|thank you|for me|if you can|if you know|right now|now|exactly|currently|at the moment|again)$/;
  for (let changed = true; changed; ) {
    const before = s;
    s = s.replace(lead, '').replace(trail, '').trim();
    changed = s !== before;
  }
  return s;
}

const TIME = [
  /^(?:what|what's|whats|what is) (?:is )?(?:the )?(?:current |exact |local )?time(?: is it| it is)?(?: (?:in|at|for) (?<place>.+?))?$/,
  /^what time (?:is it|it is)(?: (?:in|at|for) (?<place>.+?))?$/,
  /^(?:the )?(?:current )?time(?: (?:in|at|for) (?<place>.+?))?$/,
  /^(?:do you have|have you got) the time$/,
];
const DATE = /^(?:what|what's|whats|what is) (?:is )?(?:the )?(?:today's |todays |current )?date(?: (?:is it|it is|today))?(?: (?<when>today|tomorrow|yesterday))?$/;
const DATE_IS = /^what date (?:is it|is|it is|was it|was) ?(?<when>today|tomorrow|yesterday)?$/;
const DAY = /^(?:what|which|what's|whats) (?:day|day of the month)(?: is it| it is| is| was it| was)? ?(?<when>today|tomorrow|yesterday)?$/;
const WEEKDAY = /^(?:what|which|what's|whats) (?:day of the week|weekday)(?: is it| it is| is| was it| was)? ?(?<when>today|tomorrow|yesterday)?$/;
const TODAY_IS = /^(?:what's|whats|what is) (?<when>today|tomorrow|yesterday)$/;
const YEAR = /^(?:what|which) year (?:is it|is this|it is)$/;
const MONTH = /^(?:what|which) month (?:is it|is this|it is)$/;
const RECALL_NAME = /^(?:what is|what's|whats|say|tell me) my name(?: again)?$|^(?:do you (?:know|remember)|can you remember|remember) (?:what )?my name(?: is)?$|^who am i$|^what did i (?:say|tell you) my name (?:is|was)$/;
const RECALL_LOCATION =
  /^where (?:do|did) i (?:live|say i live)$|^where am i (?:from|living)$|^where do i come from$|^(?:what is|what's|whats) my (?:city|home ?town)$|^(?:do you (?:know|remember)|remember) where i (?:live|am from|'m from)$/;

const INTRO_CLAUSE = "(?:my name is|my name's|call me|you can call me|i'm|i am) [a-z'-]+(?: [a-z'-]+)?|i (?:live|am living|'m living) in [a-z .'-]+?|i(?:'m| am) from [a-z .'-]+?";
const INTRODUCTION = new RegExp(`^(?:(?:hi|hello|hey)(?: there)? )?(?:${INTRO_CLAUSE})(?: and (?:${INTRO_CLAUSE}))*$`);

const OFFSETS: Record<string, number> = { today: 0, tomorrow: 1, yesterday: -1 };

// Requests for serious harm, declined before any model sees them: a small local model may comply.
const UNSAFE = [
  /\b(?:make|build|assemble|create|construct)\b.*\b(?:bomb|explosive|ied|molotov|grenade|nerve agent|bioweapon|chemical weapon)s?\b/,
  /\b(?:bomb|explosive|ied|molotov|nerve agent|bioweapon|chemical weapon)s?\b.*\b(?:instructions|recipe|step by step|how to make|how to build)\b/,
  /\bhow (?:do|can|could|would|should) i\b.*\b(?:poison|kill|murder|strangle|stab|shoot|hurt)\b.*\b(?:someone|somebody|my|him|her|them|a person|people|neighbou?r|wife|husband|boss|child)\b/,
  /\b(?:poison|kill|murder)\b.*\bwithout (?:getting caught|anyone knowing|being caught|a trace)\b/,
  /\b(?:synthesi[sz]e|cook|make)\b.*\b(?:meth|methamphetamine|fentanyl|heroin|ricin|sarin|anthrax)\b/,
];

/** Recognises an exact-answer question, or undefined: the model answers it. */
export function recognise(text: string): Intent | undefined {
  const s = cleanUtterance(text);
  if (s === '') return undefined;
  if (UNSAFE.some((pattern) => pattern.test(s))) return { kind: 'unsafe' };
  if (s.length > 160) return undefined;
  for (const pattern of TIME) {
    const match = pattern.exec(s);
    if (match) {
      const place = match.groups?.['place']?.replace(/\b(today|right now|now)$/, '').trim();
      if (!place) return { kind: 'time' };
      const zone = zoneOf(place);
      return zone ? { kind: 'time', place, zone } : undefined;
    }
  }
  const dated = DATE.exec(s) ?? DATE_IS.exec(s) ?? TODAY_IS.exec(s);
  if (dated) return { kind: 'date', offsetDays: OFFSETS[dated.groups?.['when'] ?? 'today'] ?? 0 };
  const day = DAY.exec(s);
  if (day) return { kind: 'date', offsetDays: OFFSETS[day.groups?.['when'] ?? 'today'] ?? 0 };
  const weekday = WEEKDAY.exec(s);
  if (weekday) return { kind: 'weekday', offsetDays: OFFSETS[weekday.groups?.['when'] ?? 'today'] ?? 0 };
  if (YEAR.test(s)) return { kind: 'year' };
  if (MONTH.test(s)) return { kind: 'month' };
  if (INTRODUCTION.test(s)) return { kind: 'introduction', text };
  if (RECALL_NAME.test(s)) return { kind: 'recall', fact: 'name' };
  if (RECALL_LOCATION.test(s)) return { kind: 'recall', fact: 'location' };
  const digits = replaceNumberWords(s);
  return conversionOf(digits) ?? arithmeticOf(digits);
}

const CONVERSIONS = [
  /^how many (?<to>[a-z° /]+?) (?:are )?(?:there )?(?:in|is|are|make|per|to) (?:(?<value>-?[\d.]+) |an? |one )?(?<from>[a-z° /]+?)$/,
  /^(?:what is |what's |whats |how much is |how many is |how far is |how long is |how heavy is |convert )?(?<value>-?[\d.]+|an?|one) (?<from>[a-z° /]+?) (?:in|to|into|as|in terms of) (?<to>[a-z° /]+?)$/,
];

function conversionOf(s: string): Intent | undefined {
  for (const pattern of CONVERSIONS) {
    const match = pattern.exec(s);
    if (!match?.groups) continue;
    const { from, to } = match.groups as { from: string; to: string };
    const raw = match.groups['value'];
    const value = raw === undefined || raw === 'a' || raw === 'an' || raw === 'one' ? 1 : Number(raw);
    const source = findUnit(from);
    const target = findUnit(to);
    if (!Number.isFinite(value) || !source || !target || source.dimension !== target.dimension || source === target) continue;
    return { kind: 'convert', value, from, to };
  }
  return undefined;
}

const ARITHMETIC_LEAD = /^(?:what is|what's|whats|how much is|how much are|calculate|compute|work out|solve|what do you get (?:if you|when you) (?:add|multiply|divide|subtract)?|quick maths?)\s*/;
const ARITHMETIC_TRAIL = /\s*(?:equal|equals|make|makes|is|are|come to|comes to)$/;

/** Spoken arithmetic → an expression for the calculator, with the words to repeat it by. */
function arithmeticOf(s: string): Intent | undefined {
  const body = s.replace(ARITHMETIC_LEAD, '').replace(ARITHMETIC_TRAIL, '').trim();
  const N = '(-?[\\d.]+)';
  // [pattern, expression, how to say it]
  const forms: [RegExp, (a: string, b: string) => string, (a: string, b: string) => string][] = [
    [new RegExp(`^(?:the )?sum of ${N} and ${N}$`), (a, b) => `${a}+${b}`, (a, b) => `${a} plus ${b}`],
    [new RegExp(`^add ${N} (?:and|to|plus) ${N}$`), (a, b) => `${a}+${b}`, (a, b) => `${a} plus ${b}`],
    [new RegExp(`^(?:the )?product of ${N} and ${N}$`), (a, b) => `${a}*${b}`, (a, b) => `${a} times ${b}`],
    [new RegExp(`^multiply ${N} (?:by|and|with|times) ${N}$`), (a, b) => `${a}*${b}`, (a, b) => `${a} times ${b}`],
    [new RegExp(`^divide ${N} by ${N}$`), (a, b) => `${a}/${b}`, (a, b) => `${a} divided by ${b}`],
    [new RegExp(`^subtract ${N} from ${N}$`), (a, b) => `${b}-${a}`, (a, b) => `${b} minus ${a}`],
    [new RegExp(`^(?:the )?difference between ${N} and ${N}$`), (a, b) => `${a}-${b}`, (a, b) => `${a} minus ${b}`],
    [new RegExp(`^(?:the )?square root of ${N}$`), (a) => `sqrt(${a})`, (a) => `the square root of ${a}`],
    [new RegExp(`^${N} ?(?:percent|%) of ${N}$`), (a, b) => `${a}/100*${b}`, (a, b) => `${a} percent of ${b}`],
    [new RegExp(`^${N} squared$`), (a) => `${a}^2`, (a) => `${a} squared`],
    [new RegExp(`^${N} cubed$`), (a) => `${a}^3`, (a) => `${a} cubed`],
  ];
  for (const [pattern, build, say] of forms) {
    const match = pattern.exec(body);
    if (match) return { kind: 'arithmetic', expression: build(match[1]!, match[2]!), spoken: say(match[1]!, match[2]!) };
  }
  {
    // a chain of numbers and operators: "17 plus 25", "12 x 12", "100 divided by 4 times 3"
    const symbols = body
      .replace(/\bmultiplied by\b|\btimes\b|\bx\b|×/g, ' * ')
      .replace(/\bdivided by\b|\bover\b|÷/g, ' / ')
      .replace(/\bplus\b/g, ' + ')
      .replace(/\bminus\b/g, ' - ')
      .replace(/\bto the power of\b|\braised to(?: the power of)?\b|\bto the\b/g, ' ^ ')
      .replace(/\bmod(?:ulo)?\b/g, ' % ')
      .replace(/\s+/g, ' ')
      .trim();
    const expression = symbols.replace(/ /g, '');
    if (!/^-?\d+(?:\.\d+)?(?:[-+*/^%]-?\d+(?:\.\d+)?)+$/.test(expression)) return undefined;
    return { kind: 'arithmetic', expression, spoken: speakExpression(body) };
  }
}

function speakExpression(body: string): string {
  return body
    .replace(/\*|×|\bx\b/g, ' times ')
    .replace(/\//g, ' divided by ')
    .replace(/\+/g, ' plus ')
    .replace(/(^|\s)-(?=\s)/g, '$1minus')
    .replace(/\^/g, ' to the power of ')
    .replace(/%/g, ' percent')
    .replace(/\s+/g, ' ')
    .trim();
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Answers a recognised intent with its tool; undefined when the tool cannot (e.g. division by zero). */
export function answer(intent: Intent, context: IntentContext = {}): DirectAnswer | undefined {
  const now = (context.now ?? (() => new Date()))();
  const profileZone = context.userProfile?.['timezone'];
  const userZone = typeof profileZone === 'string' && isZone(profileZone) ? profileZone : undefined;
  const zone = userZone ?? context.defaultZone ?? 'UTC';
  const at = (offsetDays: number): Date => new Date(now.getTime() + offsetDays * 86_400_000);
  const format = (date: Date, options: Intl.DateTimeFormatOptions, timeZone = zone): string => new Intl.DateTimeFormat('en-US', { timeZone, ...options }).format(date);
  const dayWord = (offset: number): string => (offset === 0 ? 'Today is' : offset > 0 ? 'Tomorrow is' : 'Yesterday was');
  switch (intent.kind) {
    case 'time': {
      const timeZone = intent.zone ?? zone;
      const time = format(now, { hour: 'numeric', minute: '2-digit', hour12: true }, timeZone);
      const sentence = intent.place
        ? `In ${placeName(intent.place)} it is ${time}.`
        : timeZone === 'UTC' && !userZone
          ? `It is ${time}, UTC.`
          : `It is ${time}.`;
      return { intent: 'time', tool: 'current_datetime', sentences: [sentence] };
    }
    case 'date':
      return { intent: 'date', tool: 'current_datetime', sentences: [`${dayWord(intent.offsetDays)} ${format(at(intent.offsetDays), { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' })}.`] };
    case 'weekday':
      return { intent: 'weekday', tool: 'current_datetime', sentences: [`${dayWord(intent.offsetDays)} ${format(at(intent.offsetDays), { weekday: 'long' })}.`] };
    case 'year':
      return { intent: 'year', tool: 'current_datetime', sentences: [`It is ${format(now, { year: 'numeric' })}.`] };
    case 'month':
      return { intent: 'month', tool: 'current_datetime', sentences: [`It is ${format(now, { month: 'long' })}.`] };
    case 'arithmetic': {
      let value: number;
      try {
        value = evaluateExpression(intent.expression);
      } catch {
        return undefined;
      }
      return { intent: 'arithmetic', tool: 'calculator', sentences: [`${capitalise(intent.spoken)} is ${formatSpokenNumber(value)}.`] };
    }
    case 'convert': {
      let result: ReturnType<typeof convertUnits>;
      try {
        result = convertUnits(intent.value, intent.from, intent.to);
      } catch {
        return undefined;
      }
      const amount = formatSpokenNumber(result.value);
      return {
        intent: 'convert',
        tool: 'convert_units',
        sentences: [`${formatSpokenNumber(intent.value)} ${unitName(result.from, intent.value)} is ${amount} ${unitName(result.to, Number(amount))}.`],
      };
    }
    case 'unsafe':
      return { intent: 'unsafe', sentences: ["I can't help with that.", 'If someone is in danger, please call your local emergency number.'] };
    case 'introduction': {
      const facts = factsFrom([{ user: intent.text }]);
      if (!facts.name && !facts.location) return undefined; // "I'm tired and I'm hungry": not one
      const greeting = facts.name ? `Nice to meet you, ${facts.name}.` : 'Nice to meet you.';
      const place = facts.location ? (facts.locationVerb === 'from' ? ` I'll remember that you are from ${facts.location}.` : ` I'll remember that you live in ${facts.location}.`) : '';
      return { intent: 'introduction', tool: 'user_memory', sentences: [`${greeting}${place}`.trim(), 'How can I help you?'] };
    }
    case 'recall': {
      const facts: UserFacts = factsFrom(context.previousTurns ?? [], context.userProfile);
      if (intent.fact === 'name') {
        return { intent: 'recall', tool: 'user_memory', sentences: [facts.name ? `Your name is ${facts.name}.` : "You haven't told me your name yet."] };
      }
      const sentence = facts.location ? (facts.locationVerb === 'from' ? `You are from ${facts.location}.` : `You live in ${facts.location}.`) : "You haven't told me where you live yet.";
      return { intent: 'recall', tool: 'user_memory', sentences: [sentence] };
    }
  }
}

function placeName(place: string): string {
  return place
    .split(' ')
    .map((word) => (word.length <= 2 && word !== 'of' ? word.toUpperCase() : word === 'of' || word === 'de' ? word : capitalise(word)))
    .join(' ');
}

/** The direct answer to an utterance, when it is an exact-answer question. */
export function directAnswer(text: string, context: IntentContext = {}): DirectAnswer | undefined {
  const intent = recognise(text);
  return intent ? answer(intent, context) : undefined;
}

