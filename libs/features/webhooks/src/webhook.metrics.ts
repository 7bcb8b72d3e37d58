import { Injectable } from '@nestjs/common';
import type { WebhookOutcome } from './webhook-intake.service.js';
import { WebhookError } from './webhooks.errors.js';
import { CallControlError, CallControlErrorCode } from '#calls';
import { LATENCY_BUCKETS, MetricsRegistry } from '#metrics';

/** What happened to OpenAI webhooks, and how long answering a call took. */
@Injectable()
export class WebhookMetrics {
  private readonly requests;
  private readonly acceptLatency;
  private readonly acceptFailures;

  constructor(metrics: MetricsRegistry) {
    this.requests = metrics.counter({
      name: 'bridge_webhook_requests_total',
      help: 'OpenAI webhooks by outcome: accepted, duplicate, caller_gone, rejected, ignored, invalid_signature, missing_header, malformed_body, payload_too_large, draining, accept_failed, error.',
      labelNames: ['outcome'],
    });
    this.acceptLatency = metrics.histogram({
      name: 'bridge_webhook_accept_latency_seconds',
      help: 'From the webhook arriving to the call accepted (OpenAI accept round trip included).',
      buckets: LATENCY_BUCKETS,
    });
    this.acceptFailures = metrics.counter({
      name: 'bridge_accept_failures_total',
      help: 'Accepts that failed and were answered 5xx (OpenAI retries), by cause: timeout, http_<status>, network.',
      labelNames: ['cause'],
    });
  }

  handled(outcome: WebhookOutcome, startedAt: number): void {
    this.requests.inc({ outcome });
    if (outcome === 'accepted') this.acceptLatency.observe((performance.now() - startedAt) / 1000);
  }

  failed(error: unknown): void {
    if (error instanceof WebhookError) {
      this.requests.inc({ outcome: error.code });
    } else if (error instanceof CallControlError) {
      this.requests.inc({ outcome: 'accept_failed' });
      const cause =
        error.code === CallControlErrorCode.Timeout ? 'timeout' : error.upstreamStatus ? `http_${error.upstreamStatus}` : 'network';
      this.acceptFailures.inc({ cause });
    } else {
      this.requests.inc({ outcome: 'error' });
    }
  }
}
