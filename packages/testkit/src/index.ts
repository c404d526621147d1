// Process helpers come from the dev stack (arc up runs on them too).
export { REPO_ROOT, TOOLS_BIN, MissingBinaryError, findBinary, freePort, startProcess, waitFor } from '@arc/devstack';
export type { ManagedProcess } from '@arc/devstack';
export { startNatsServer } from './nats-server.js';
export type { NatsServerHandle, NatsServerOptions } from './nats-server.js';
export { startLiveKitCluster, startLiveKitServer } from './livekit-server.js';
export type { LiveKitCluster, LiveKitServerHandle, LiveKitServerOptions } from './livekit-server.js';
export { startRedisServer, type RedisServerHandle } from './redis-server.js';
export { collect, silentLogger } from './collect.js';
export type { Collector } from './collect.js';
export { startScriptedOpenAIServer, echoReply } from './scripted-openai-server.js';
export type { ScriptedOpenAIServer, ScriptedOpenAIServerOptions, ScriptedReply, ScriptedRequest, Script, ChatCompletionRequestBody } from './scripted-openai-server.js';
export { startWorkerProcess, waitUntilReady, workerEnv, type TestServers } from './workers.js';
export { startJaeger, type JaegerHandle } from './jaeger.js';
export { startPulsar, PULSAR_LIB, type PulsarHandle } from './pulsar.js';
export { startTestNatsCluster } from './nats-cluster.js';
export type { NatsCluster, NatsNode } from '@arc/devstack';
export { createHosts, hostsUnavailable, type NetHost, type NetHosts } from './hosts.js';
export { percentile } from './stats.js';
