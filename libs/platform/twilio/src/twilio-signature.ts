import { Inject, Injectable } from '@nestjs/common';
import twilio from 'twilio';
import { twilioConfig } from './twilio.config.js';
import type { ConfigType } from '#config';

/** Form parameters as Twilio posted them (a repeated name keeps every value). */
export type TwilioParams = Record<string, string | string[]>;

/**
 * Checks `X-Twilio-Signature` with the SDK (HMAC-SHA1 of the full URL and the sorted form parameters, keyed by the
 * auth token). The URL is the public one Twilio called: PUBLIC_BASE_URL followed by the path and query this service
 * received, so a proxy in front changes nothing.
 */
@Injectable()
export class TwilioSignature {
  constructor(@Inject(twilioConfig.KEY) private readonly config: ConfigType<typeof twilioConfig>) {}

  /** The URL Twilio signed for a request this service received at `originalUrl` (path and query). */
  publicUrl(originalUrl: string): string {
    const account = this.config.account;
    if (!account) throw new Error('Twilio is not configured');
    return `${account.publicBaseUrl}${originalUrl.startsWith('/') ? '' : '/'}${originalUrl}`;
  }

  /** True only for a well-formed signature that matches; false without one, or without Twilio configured. */
  verify(originalUrl: string, signature: unknown, params: TwilioParams): boolean {
    const account = this.config.account;
    if (!account || typeof signature !== 'string' || signature.length === 0 || signature.length > 512) return false;
    try {
      return twilio.validateRequest(account.authToken, signature, this.publicUrl(originalUrl), params);
    } catch {
      return false;
    }
  }
}
