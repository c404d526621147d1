export { recognise, answer, directAnswer, cleanUtterance, type Intent, type IntentContext, type DirectAnswer } from './intents.js';
export { factsFrom, describeFacts, type UserFacts } from './memory.js';
export { replaceNumberWords, parseNumberWords, formatSpokenNumber } from './numbers.js';
export { zoneOf } from './places.js';
