export { Bus, connectBus } from './bus.js';
export type { BusOptions, BusSubscription, Handler, MessageMeta, PublishOutcome, SubscribeOptions } from './bus.js';
export { BusError, BusClosedError, BusConnectError, NoRespondersError, PayloadTooLargeError, RequestTimeoutError } from './errors.js';
export { BusMetricsRecorder } from './metrics.js';
export type { BusMetricsSnapshot, Counter } from './metrics.js';
