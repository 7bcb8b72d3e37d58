import { Injectable } from '@nestjs/common';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { CallsService, parseCallContext, type IncomingCallOutcome } from '#calls';
import { ConferenceCallLinker } from '#conference';
import { TenantProfiles } from '#tenants';

const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * `realtime.call.incoming`: read the call, tie it to its Twilio conference when it came through one (its
 * `X-conferenceName`, whose link holds the numbers the caller dialled and called from), choose its agent, accept it
 * (or reject it, as the tenants file says, or when its conference already gave up on the agent).
 */
@Injectable()
export class IncomingCallHandler {
  constructor(
    private readonly calls: CallsService,
    private readonly tenants: TenantProfiles,
    private readonly conferences: ConferenceCallLinker,
  ) {}

  async handle(event: Record<string, unknown>): Promise<IncomingCallOutcome> {
    const data = event.data as { call_id?: unknown; sip_headers?: unknown } | undefined;
    const callId = typeof data === 'object' && data !== null ? data.call_id : undefined;
    if (typeof callId !== 'string' || !CALL_ID.test(callId)) {
      throw new WebhookError(WebhookErrorCode.MalformedBody, 'realtime.call.incoming without a valid data.call_id');
    }
    const parsed = parseCallContext(callId, data?.sip_headers);
    // First the conference: on the agent's leg `To` is OpenAI's SIP URI, the number the caller dialled is on the link.
    const { context, reject } = await this.conferences.link(parsed);
    if (reject) return this.calls.rejectIncoming(context, reject.statusCode, reject.reason);
    const choice = this.tenants.choose(context);
    if (choice.kind === 'reject') return this.calls.rejectIncoming(context, choice.statusCode);
    return this.calls.acceptIncoming(context, choice.profile);
  }
}
