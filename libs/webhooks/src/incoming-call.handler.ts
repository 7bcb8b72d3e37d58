import { Injectable } from '@nestjs/common';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { CallsService, parseCallContext, type IncomingCallOutcome } from '#calls';
import { TenantProfiles } from '#tenants';

const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** `realtime.call.incoming`: read the call, choose its agent, accept it (or reject it, as the tenants file says). */
@Injectable()
export class IncomingCallHandler {
  constructor(
    private readonly calls: CallsService,
    private readonly tenants: TenantProfiles,
  ) {}

  async handle(event: Record<string, unknown>): Promise<IncomingCallOutcome> {
    const data = event.data as { call_id?: unknown; sip_headers?: unknown } | undefined;
    const callId = typeof data === 'object' && data !== null ? data.call_id : undefined;
    if (typeof callId !== 'string' || !CALL_ID.test(callId)) {
      throw new WebhookError(WebhookErrorCode.MalformedBody, 'realtime.call.incoming without a valid data.call_id');
    }
    const context = parseCallContext(callId, data?.sip_headers);
    const choice = this.tenants.choose(context);
    if (choice.kind === 'reject') return this.calls.rejectIncoming(context, choice.statusCode);
    return this.calls.acceptIncoming(context, choice.profile);
  }
}
