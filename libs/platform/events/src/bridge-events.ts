import type { CallContext } from './call-context.js';
import type { RealtimeServerEvent } from './realtime-event.js';

/** Why a call's sideband session ended. */
export type CallEndReason =
  | 'remote_closed' // OpenAI closed the socket: caller hung up, /hangup, transfer completed
  | 'error' // the socket failed or the keepalive watchdog gave up on it
  | 'session_cap' // the 60-minute Realtime session cap
  | 'shutdown' // this process is stopping
  | 'handshake_failed' // the sideband never opened (the call is gone or the accept silently failed)
  | 'transferred' // a warm transfer completed: the human joined the caller's conference and the agent's leg was ended
  | 'ended_unobserved'; // its owner replica was lost, and the call had ended before another could reopen its sideband

/**
 * Where a call's profile sends `transfer_to_human` (either may be absent: the deployment's environment then
 * decides). `sipUri` takes precedence over `humanAgentNumber` for a SIP REFER.
 */
export interface TransferTarget {
  /** E.164. */
  humanAgentNumber?: string;
  sipUri?: string;
}

export interface CallAcceptedEvent {
  callId: string;
  context: CallContext;
  acceptedAt: Date;
  /** The agent profile that answered. */
  profile: string;
  /** The profile's transfer target, when it has its own. */
  transfer?: TransferTarget;
  /** Whether caller speech is transcribed (without it there are no caller lines). */
  callerTranscription: boolean;
  /** What the agent says first, once the sideband is open (the profile's welcome message). */
  greeting?: string;
  /**
   * The tools offered to this call (the names in its accept body): the only ones it may run. Absent: every enabled
   * tool.
   */
  tools?: string[];
  /** The profile's metadata, stored on the call record. */
  metadata?: Record<string, unknown>;
  /**
   * Ids of the notification destinations this call is announced and transcribed to (never a secret URL). Absent:
   * the deployment's default destinations.
   */
  notify?: string[];
}

/**
 * A live call another replica owned, taken over by this one (its owner drained, or its lease ran out after a crash)
 * before its sideband is reopened here: what `call.accepted` said, read back from storage, and the call's state so
 * far, so that nothing is said, released or run twice. No greeting: the agent has spoken already.
 */
export interface CallAdoptedEvent extends Omit<CallAcceptedEvent, 'greeting'> {
  /** The lines already released (stored), in order: the next line is `priorLines.length`. */
  priorLines: TranscriptLine[];
  /** Tool calls already started on the call (by the Realtime `call_id`), and whether each finished. */
  priorToolCalls: Array<{ toolCallId: string; name: string; finished: boolean }>;
  /** Why: `handover` (its owner drained and released it), `expired` (its owner stopped renewing its lease). */
  cause: 'handover' | 'expired';
}

/**
 * This process no longer holds a live call that goes on elsewhere: it handed it to another replica while draining,
 * or another replica took it over (this one's lease had run out). Listeners drop the call's state without ending it.
 */
export interface CallDetachedEvent {
  callId: string;
  reason: 'handover' | 'lease_lost';
}

export interface CallRejectedEvent {
  callId: string;
  context: CallContext;
  /**
   * `caller_gone`: accept (or reject) answered 404, the caller hung up before we answered. `unknown_number`: no
   * agent profile answers this call and the tenants file says to reject such calls. `at_capacity`: this process
   * already holds MAX_CONCURRENT_CALLS calls; the call was rejected with SIP 486 (busy). `agent_leg_failed`: the
   * agent's leg of a Twilio conference whose voice webhook had given up adding the agent (the caller heard an
   * apology and was hung up on), rejected with SIP 480 so that nobody talks to an empty conference.
   */
  reason: 'caller_gone' | 'unknown_number' | 'at_capacity' | 'agent_leg_failed';
  /** The SIP status the call was rejected with (`unknown_number`: 486 or 603; `at_capacity`: 486; `agent_leg_failed`: 480). */
  statusCode?: number;
}

export interface SidebandConnectedEvent {
  callId: string;
  attempts: number;
}

export interface RealtimeEventReceived {
  callId: string;
  event: RealtimeServerEvent;
}

export interface CallEndedEvent {
  callId: string;
  reason: CallEndReason;
  acceptedAt: Date;
  endedAt: Date;
  /** WebSocket close code when the socket closed (1000 normal, 1006 abnormal …). */
  closeCode?: number;
}

/** One finished turn, released in conversation order (`seq` from 0) once it and everything before it are final. */
export interface TranscriptLine {
  callId: string;
  seq: number;
  speaker: 'caller' | 'agent';
  text: string;
  /** The Realtime conversation item the line came from. */
  itemId: string;
  /** The agent was cut off by the caller. */
  interrupted: boolean;
  /** Stand-in text: the caller's transcription failed or never completed. */
  placeholder: boolean;
  /** When the line became final. */
  at: Date;
}

export interface CallTranscriptCompletedEvent {
  callId: string;
  lines: TranscriptLine[];
  /** How the call ended (the `call.ended` that completed the transcript). */
  ended: CallEndedEvent;
}

/** What started a tool run: the model's function call, or a key the DTMF key map binds to the tool. */
export type ToolTrigger = 'model' | 'dtmf';

/** Where a tool run stands; every status but `running` is final. */
export type ToolInvocationStatus =
  | 'running'
  | 'succeeded'
  | 'failed' // the tool threw
  | 'timed_out' // the tool did not finish within its timeout
  | 'invalid_arguments' // not JSON, or the arguments failed validation
  | 'unknown_tool'; // no enabled tool has that name

export interface ToolStartedEvent {
  callId: string;
  /** The Realtime function call's `call_id` (`dtmf_…` for a key-map action). */
  toolCallId: string;
  name: string;
  trigger: ToolTrigger;
  /** The parsed arguments with secrets redacted; null when they were not a JSON object. */
  arguments: Record<string, unknown> | null;
  startedAt: Date;
}

export interface ToolCompletedEvent {
  callId: string;
  toolCallId: string;
  name: string;
  trigger: ToolTrigger;
  status: Exclude<ToolInvocationStatus, 'running'>;
  /** What the model was given (a result or an error), secrets redacted. */
  output: string;
  /** Whether the output reached the call (false when the call had already ended). */
  delivered: boolean;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

/** A key the caller pressed (SIP INFO / RFC 4733, as OpenAI reports it). */
export interface CallDtmfEvent {
  callId: string;
  /** "0"-"9", "*", "#", "A"-"D". */
  key: string;
  receivedAt: Date;
  /** The tool the DTMF key map runs for this key, if any (the key is then not passed on to the model). */
  action?: string;
}

/**
 * Where a warm transfer (Twilio conference) stands: `dialing` once the human's phone is being rung, then one final
 * status — `joined` (the human is in the conference, the agent's leg is ended next), `no_answer`, `busy` or `failed`.
 */
export type TransferStatus = 'dialing' | 'joined' | 'no_answer' | 'busy' | 'failed';

export interface CallTransferEvent {
  /** The Realtime call the agent is on. */
  callId: string;
  /** One dialling of the human; a second `transfer_to_human` on the same call is another attempt. */
  attempt: string;
  status: TransferStatus;
  /** `dialing`: what the caller needs, in the model's words (caller-influenced text). */
  reason?: string;
  /** `dialing`: the caller's number as Twilio reported it (E.164). */
  callerNumber?: string;
  /** The human's participant label in the conference (TWILIO_HUMAN_LABEL). */
  humanLabel?: string;
  /** `failed`: what went wrong, in a few words for the team (never a secret or a number). */
  detail?: string;
  at: Date;
}

/**
 * Every fact published on the in-process bus, by name. The bus is not durable: a reaction that must survive a
 * crash writes to storage first.
 */
export interface BridgeEvents {
  'call.accepted': CallAcceptedEvent;
  'call.adopted': CallAdoptedEvent;
  'call.detached': CallDetachedEvent;
  'call.rejected': CallRejectedEvent;
  'sideband.connected': SidebandConnectedEvent;
  'realtime.event': RealtimeEventReceived;
  'call.ended': CallEndedEvent;
  'transcript.line': TranscriptLine;
  'call.transcript.completed': CallTranscriptCompletedEvent;
  'tool.started': ToolStartedEvent;
  'tool.completed': ToolCompletedEvent;
  'call.dtmf': CallDtmfEvent;
  'call.transfer': CallTransferEvent;
}

export type BridgeEventName = keyof BridgeEvents;
