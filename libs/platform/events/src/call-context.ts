/** What the SIP INVITE told us about a call. All of it is caller-controlled metadata: never use it to authorize. */
export interface CallContext {
  callId: string;
  /** Caller's number in E.164 when one could be read (P-Asserted-Identity, then From). */
  callerNumber?: string;
  /** The raw From display/URI, kept for announcements when the caller is not a phone number. */
  fromUri?: string;
  /** Dialled number in E.164 (To). */
  dialledNumber?: string;
  /** The number the call was forwarded from (Diversion, then History-Info). */
  forwardedFrom?: string;
  sipCallId?: string;
  twilioCallSid?: string;
  conferenceName?: string;
  /** Every SIP header as received (names as sent), for tools and tenant matching. */
  sipHeaders: ReadonlyArray<{ name: string; value: string }>;
}
