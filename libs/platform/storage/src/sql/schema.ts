import type { Generated, Kysely } from 'kysely';

/**
 * The tables as both dialects store them: timestamps are BIGINT epoch milliseconds, booleans INTEGER 0/1, JSON is
 * TEXT. The PostgreSQL pool parses int8 to number, so a row reads the same from either database.
 */
export interface CallsTable {
  call_id: string;
  status: string;
  profile: string | null;
  caller_number: string | null;
  dialled_number: string | null;
  forwarded_from: string | null;
  from_uri: string | null;
  sip_call_id: string | null;
  twilio_call_sid: string | null;
  conference_name: string | null;
  accepted_at: number;
  ended_at: number | null;
  end_reason: string | null;
  /** JSON object. */
  metadata: string | null;
}

export interface TranscriptLinesTable {
  call_id: string;
  seq: number;
  speaker: string;
  text: string;
  item_id: string | null;
  interrupted: number;
  placeholder: number;
  at: number;
}

/** One run of a tool, once per `(call_id, tool_call_id)` (the Realtime function call's `call_id`). */
export interface ToolInvocationsTable {
  id: string;
  call_id: string;
  tool_call_id: string;
  name: string;
  /** JSON text as the model sent it. */
  arguments: string | null;
  /** JSON text. */
  result: string | null;
  status: string;
  started_at: number;
  finished_at: number | null;
}

/** Deliveries to send (Discord and the like), once per `(destination, dedupe_key)`. */
export interface NotificationOutboxTable {
  id: Generated<number>;
  destination: string;
  call_id: string | null;
  dedupe_key: string;
  /** JSON text. */
  payload: string;
  status: string;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: number;
  next_attempt_at: number;
  delivered_at: number | null;
  /** The process delivering it (`NotificationOutbox.owner`), while pending; null for rows stored before leases. */
  owner: string | null;
  /** Epoch ms its owner's lease runs out (0: released, or stored before leases). */
  lease_until: Generated<number>;
}

export interface IdempotencyClaimsTable {
  key: string;
  expires_at: number;
}

/** One Twilio conference and the Realtime call of its agent leg (`ConferenceLinks`), migration 0002. */
export interface ConferenceLinksTable {
  conference_name: string;
  conference_sid: string | null;
  caller_call_sid: string;
  caller_number: string | null;
  dialled_number: string | null;
  call_token: string | null;
  agent_call_sid: string | null;
  agent_status: string;
  openai_call_id: string | null;
  human_attempt: string | null;
  human_call_sid: string | null;
  human_status: string | null;
  created_at: number;
  updated_at: number;
}

/** A call's timeline events other than lines and tool runs (migration 0004), once per `(call_id, event_id)`. */
export interface CallEventsTable {
  id: Generated<number>;
  call_id: string;
  event_id: string;
  kind: string;
  at: number;
  /** JSON object. */
  data: string;
}

/**
 * SQLite only (migration 0004): a small integer per call whose transcript is indexed, so that an FTS5 row id
 * (`key * 2^20 + seq`) says which call and line it is without a lookup.
 */
export interface CallSearchKeysTable {
  key: Generated<number>;
  call_id: string;
}

/** The shared broadcast log (SharedBroadcast, PostgreSQL). */
export interface BroadcastsTable {
  id: Generated<number>;
  topic: string;
  key: string | null;
  data: string;
  at: number;
}

/** The owner replica of a live call (`CallLeases`, PostgreSQL), migration 0008. */
export interface CallLeasesTable {
  call_id: string;
  owner: string;
  fence: number;
  /** Milliseconds since the epoch, the database's clock. */
  expires_at: number;
  handover: boolean;
  /** What the call was accepted with (JSON, the owner's to write). */
  call: string;
}

export interface StorageSchema {
  calls: CallsTable;
  transcript_lines: TranscriptLinesTable;
  tool_invocations: ToolInvocationsTable;
  notification_outbox: NotificationOutboxTable;
  idempotency_claims: IdempotencyClaimsTable;
  conference_links: ConferenceLinksTable;
  call_events: CallEventsTable;
  call_search_keys: CallSearchKeysTable;
  broadcasts: BroadcastsTable;
  call_leases: CallLeasesTable;
}

export type StorageDb = Kysely<StorageSchema>;

export type StorageDialect = 'sqlite' | 'postgres';
