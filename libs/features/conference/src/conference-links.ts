import type { TransferStatus } from '#events';

/** Where the agent's leg of a conference stands. */
export type AgentLegStatus =
  | 'dialing' // the participant was requested (or is being requested)
  | 'failed' // it could not be added, or its call failed before joining
  | 'joined'
  | 'left'; // it left the conference (hung up, or was ended by a transfer)

/**
 * What ties the two sides of a Twilio Programmable Voice call together: the caller's Twilio call (and its
 * conference, named after its CallSid) and the OpenAI Realtime call of the agent's SIP leg. Stored, never held in
 * process memory: the voice webhook, the OpenAI webhook and the conference events may reach different replicas.
 *
 * `callToken` and `callerNumber` are sensitive: never log them.
 */
export interface ConferenceLink {
  /** The conference's FriendlyName, which is the caller's CallSid. */
  conferenceName: string;
  /** `CF…`, once Twilio has told us. */
  conferenceSid: string | null;
  /** The caller's leg (`CA…`). */
  callerCallSid: string;
  /** E.164, as Twilio's signed voice webhook reported it. */
  callerNumber: string | null;
  /** The Twilio number the caller dialled (E.164). */
  dialledNumber: string | null;
  /** The voice webhook's `CallToken`: lets new participants present the caller's number. */
  callToken: string | null;
  /** The agent's SIP leg (`CA…`), once the participant was created. */
  agentCallSid: string | null;
  agentStatus: AgentLegStatus;
  /** The Realtime call (`rtc_…`) the agent's SIP leg became; set by the first OpenAI webhook that names the conference. */
  openaiCallId: string | null;
  /** The current (latest) dialling of a human, if any. */
  humanAttempt: string | null;
  humanCallSid: string | null;
  humanStatus: TransferStatus | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewConferenceLink = Pick<
  ConferenceLink,
  'conferenceName' | 'callerCallSid' | 'callerNumber' | 'dialledNumber' | 'callToken' | 'createdAt'
>;

/** Fields learned after the link was created; only those given change. */
export interface ConferenceLinkChanges {
  conferenceSid?: string;
  agentCallSid?: string;
  agentStatus?: AgentLegStatus;
}

/**
 * The conference links port. Every write is a single conditional statement, so concurrent webhooks (on one replica
 * or several) cannot both win the same transition.
 */
export abstract class ConferenceLinks {
  /** Stores a new link; false when the conference already has one (a repeated voice webhook). */
  abstract create(link: NewConferenceLink): Promise<boolean>;

  abstract get(conferenceName: string): Promise<ConferenceLink | undefined>;

  /**
   * Ties a Realtime call to the conference and returns the link: when it is not tied yet, or already tied to this
   * call. Undefined when there is no such conference or it belongs to another call.
   */
  abstract linkOpenAICall(conferenceName: string, openaiCallId: string): Promise<ConferenceLink | undefined>;

  abstract update(conferenceName: string, changes: ConferenceLinkChanges): Promise<void>;

  /**
   * Moves the agent's leg to `status` only from one of `from`; true when it moved. (The leave event and the call's
   * status callback both report a leg that is gone: only the first acts.)
   */
  abstract moveAgent(conferenceName: string, from: AgentLegStatus[], status: AgentLegStatus): Promise<boolean>;

  /**
   * Starts dialling a human: records `attempt` as `dialing`, unless a human is already being dialled or has joined.
   * True when this attempt started.
   */
  abstract beginHumanAttempt(conferenceName: string, attempt: string): Promise<boolean>;

  /**
   * Updates the human leg of `attempt` — only while it is still that attempt, and (with `from`) only from one of
   * those statuses. True when it changed.
   */
  abstract updateHumanAttempt(
    conferenceName: string,
    attempt: string,
    changes: { status?: TransferStatus; callSid?: string },
    from?: TransferStatus[],
  ): Promise<boolean>;

  /** Deletes links created before `cutoff` (they hold a caller's number and a CallToken); returns how many. */
  abstract deleteCreatedBefore(cutoff: Date): Promise<number>;
}

/** How long a link is kept: far longer than any call, short enough not to hoard callers' numbers and tokens. */
export const CONFERENCE_LINK_TTL_MS = 24 * 60 * 60 * 1000;
