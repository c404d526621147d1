/**
 * Process supervision for a local ARC stack: finding the servers' binaries, starting processes
 * and watching their output, free ports, LiveKit's loopback configuration. `arc up` runs on it,
 * and so does the test kit.
 */
export { REPO_ROOT, TOOLS_BIN, MissingBinaryError, findBinary } from './binaries.js';
export { freePort, startProcess, waitFor } from './process.js';
export type { ManagedProcess } from './process.js';
export { liveKitConfigYaml, type LiveKitClusterOptions, type LiveKitConfigOptions } from './livekit-config.js';
export { jaegerConfigYaml, type JaegerPorts } from './jaeger-config.js';
export { startNatsCluster, type NatsCluster, type NatsClusterOptions, type NatsNode, type NatsNodePorts } from './nats-cluster.js';
