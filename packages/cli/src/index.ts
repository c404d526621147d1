/** Library surface of the CLI package, for tests and tools that embed its parts. */
export { startPlayground, type Playground, type PlaygroundOptions } from './playground/server.js';
export { askAgent, Conversation, quietTailMs, TALK_SAMPLE_RATE, type TalkOptions, type TalkResult } from './talk/conversation.js';
export { MonitorState, type MonitorEvent, type ServiceView } from './monitor/state.js';
export { StackDefaults } from './config.js';
