import { defineWorker } from '@arc/runtime';
import { PulsarSinkConfig } from './config.js';
import { PulsarSink } from './sink.js';

export const PULSAR_SINK_SERVICE = 'arc-pulsar-sink';

/** Copies the audit stream (agent.…, system.>, dlq.>) to Pulsar topics, one per subject. */
export const pulsarSinkWorker = defineWorker({
  service: PULSAR_SINK_SERVICE,
  config: PulsarSinkConfig,
  async start({ bus, config, logger, reportError, setStatus }) {
    if (!config.ARC_AUDIT) throw new Error('the Pulsar sink copies the audit stream: ARC_AUDIT must be on');
    const sink = new PulsarSink({
      nc: bus.natsConnection,
      pulsarUrl: config.PULSAR_WS_URL,
      topicPrefix: config.PULSAR_TOPIC_PREFIX,
      consumer: config.PULSAR_SINK_CONSUMER,
      maxInFlight: config.PULSAR_SINK_MAX_IN_FLIGHT,
      logger,
      onOutage(down, reason) {
        setStatus(down ? 'degraded' : 'healthy');
        if (down) reportError('pulsar_unavailable', `events wait in ARC_AUDIT until Pulsar takes them: ${reason}`, 'warning');
        else logger.info(reason);
      },
    });
    await sink.start();
    logger.info({ pulsar: config.PULSAR_WS_URL, topics: `${config.PULSAR_TOPIC_PREFIX}<subject>`, consumer: config.PULSAR_SINK_CONSUMER }, 'Pulsar sink ready');
    return {
      metrics: () => ({
        active_sessions: sink.inFlight,
        load: Math.min(1, sink.inFlight / config.PULSAR_SINK_MAX_IN_FLIGHT),
        sink: { forwarded: sink.forwarded, failed: sink.failed, in_flight: sink.inFlight, destinations: sink.topics },
      }),
      stop: () => sink.stop(),
    };
  },
});
