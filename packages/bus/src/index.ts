export { Bus, connectBus } from './bus.js';
export type { BusOptions, BusSubscription, Handler, MessageMeta, PublishOptions, PublishOutcome, SubscribeOptions } from './bus.js';
export {
  BusError,
  BadSubjectError,
  BusClosedError,
  BusConnectError,
  InvalidPayloadError,
  NoRespondersError,
  PermissionDeniedError,
  NoWorkerError,
  PayloadTooLargeError,
  RequestTimeoutError,
} from './errors.js';
export { StickyRouter, type StickyRouterOptions, type StickySubject } from './sticky-router.js';
export { Admission, type AdmissionOptions } from './admission.js';
export { BusMetricsRecorder } from './metrics.js';
export type { BusMetricsSnapshot, Counter } from './metrics.js';
export {
  AUDIT_STREAM,
  AuditUnavailableError,
  DEFAULT_AUDIT_LIMITS,
  conversationFilter,
  ensureAuditStream,
  readAudit,
  type AuditEvent,
  type AuditLimits,
  type AuditQuery,
  type AuditStreamState,
} from './audit.js';
