export { PulsarSink, type PulsarSinkOptions } from './sink.js';
export { PulsarProducer, PulsarSendError, readTopic, type PulsarMessage, type ReadMessage } from './pulsar-websocket.js';
export { pulsarSinkWorker, PULSAR_SINK_SERVICE } from './worker.js';
export { PulsarSinkConfig } from './config.js';
