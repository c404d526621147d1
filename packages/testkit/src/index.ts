export { REPO_ROOT, TOOLS_BIN, MissingBinaryError, findBinary } from './binaries.js';
export { freePort, startProcess, waitFor } from './process.js';
export type { ManagedProcess } from './process.js';
export { startNatsServer } from './nats-server.js';
export type { NatsServerHandle, NatsServerOptions } from './nats-server.js';
export { startLiveKitServer } from './livekit-server.js';
export type { LiveKitServerHandle, LiveKitServerOptions } from './livekit-server.js';
export { collect, silentLogger } from './collect.js';
export type { Collector } from './collect.js';
