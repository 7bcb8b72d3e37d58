import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LocalServer } from './local-server.js';
import type { ConversationScript } from './conversation-script.js';
import type { EmulatedCall, OpenAIEmulator } from './openai-emulator.js';

export interface FakeTwilioOptions {
  /** The account the fake serves (`AC…`): requests must use it in the path and as the basic-auth user. */
  accountSid: string;
  /** Its auth token: the basic-auth password, and the key every callback is signed with. */
  authToken: string;
  port?: number;
  host?: string;
}

/** Form parameters (a repeated name keeps every value, in order). */
export type FormParams = Record<string, string | string[]>;

/** One REST request as the fake saw it. */
export interface FakeTwilioRequest {
  method: string;
  path: string;
  /** `participants.create`, `calls.update`, or the path when no route matched. */
  action: string;
  params: FormParams;
  /** Basic auth as sent (undefined without one). */
  auth?: { username: string; password: string };
  status: number;
  /** performance.now() when the request arrived. */
  at: number;
}

/**
 * How successful REST answers are written: `documented` (the fields the fake tracks: the whole Participant
 * resource, a Call's `sid`, `account_sid`, `status`, `from`, `to`), `full` (the whole resource as a real answer
 * has it, many fields the bridge never reads, plus fields nobody documented yet), or `nulls` (that whole resource
 * with every field but its SIDs null).
 */
export const TWILIO_REPLY_SHAPES = ['documented', 'full', 'nulls'] as const;

export type TwilioReplyShape = (typeof TWILIO_REPLY_SHAPES)[number];

/** A queued answer for the next request of one action; see {@link FakeTwilio.respondNext}. */
export interface FakeTwilioResponse {
  status: number;
  body?: unknown;
  /** A body sent verbatim instead of `body` as JSON (a proxy's HTML error page, or nothing). */
  raw?: { text: string; contentType?: string };
  /** Answer after this long (past the client's timeout, to make it give up). */
  delayMs?: number;
}

/** What happens to a participant after it is created; see {@link FakeTwilio.nextParticipant}. */
export type ParticipantEvent = 'ringing' | 'answered' | 'join' | 'leave' | 'no-answer' | 'busy' | 'failed' | 'completed';

export interface ParticipantStep {
  /** Delay after the previous step (after the participant was created, for the first). */
  afterMs: number;
  event: ParticipantEvent;
}

export type ParticipantStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'no-answer' | 'busy' | 'failed';

export interface FakeParticipant {
  /** The participant's call (`CA…`). */
  callSid: string;
  conferenceSid: string;
  conferenceName: string;
  label?: string;
  from: string;
  to: string;
  /** The create request's parameters (empty for the caller, who joined by TwiML). */
  params: FormParams;
  status: ParticipantStatus;
  statusCallback?: string;
  statusCallbackEvents: string[];
  endConferenceOnExit: boolean;
  /** For a participant dialled at OpenAI's SIP connector (with `connectOpenAI`): the call it placed there. */
  openaiCall?: EmulatedCall;
}

export interface FakeConference {
  name: string;
  sid: string;
  /** The first given: a participant's `ConferenceStatusCallback`, or the caller's TwiML `<Conference statusCallback=…>`. */
  statusCallback?: string;
  statusCallbackEvents: string[];
  participants: FakeParticipant[];
  ended: boolean;
}

/** A callback the fake posted to the bridge, with the status it got. */
export interface FakeTwilioCallback {
  /** The URL as Twilio was told it (the public one, which the signature covers). */
  url: string;
  params: Record<string, string>;
  status: number;
  /** performance.now() when the fake started posting it. */
  sentAt: number;
  /** performance.now() when the bridge had answered it. */
  at: number;
}

export interface PlacedCall {
  callSid: string;
  callToken: string | null;
  /** The bridge's answer to the voice webhook. */
  status: number;
  contentType: string | null;
  twiml: string;
  /** The conference the TwiML put the caller in (undefined when it did not). */
  conference?: FakeConference;
}

const NOT_FOUND = (what: string) => ({
  status: 404,
  body: { code: 20404, message: `The requested resource ${what} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 },
});
const UNAUTHORIZED = {
  status: 401,
  body: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 },
};
const API = '/2010-04-01';
const OPENAI_SIP = /^sips?:[^@]+@sip(?:-eu)?\.api\.openai\.com/i;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const sid = (prefix: string) => `${prefix}${hex(16)}`;

/**
 * A local stand-in for Twilio Programmable Voice, for end-to-end tests with the real twilio SDK (pointed at it by
 * TWILIO_API_BASE_URL): the Participants API and call updates, with Twilio's paths, basic auth and error bodies;
 * signed webhooks to the bridge (the voice webhook of an incoming call, conference events, participant call
 * status); and, connected to the OpenAI emulator, the agent's SIP leg — a participant dialled at
 * `sip:…@sip.api.openai.com` becomes an emulated OpenAI call carrying its `X-…` URI parameters as SIP headers, and
 * ending that participant's call closes the call's sideband, as a real SIP BYE would.
 */
export class FakeTwilio {
  readonly requests: FakeTwilioRequest[] = [];
  readonly callbacks: FakeTwilioCallback[] = [];
  readonly participants: FakeParticipant[] = [];
  readonly conferences = new Map<string, FakeConference>();
  private readonly faults = new Map<string, FakeTwilioResponse[]>();
  private readonly scripts: Array<{ match: (p: FakeParticipant) => boolean; steps: ParticipantStep[] }> = [];
  private readonly openaiScripts = new Map<string, ConversationScript>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private bridge?: { publicBaseUrl: string; localBaseUrl: string };
  private openai?: { emulator: OpenAIEmulator; webhookUrl: string };
  private http?: LocalServer;
  private sequence = 0;
  private stopped = false;
  /** How successful answers are written from now on (see `TWILIO_REPLY_SHAPES`). */
  replyShape: TwilioReplyShape = 'documented';

  constructor(private readonly options: FakeTwilioOptions) {
    if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new RangeError('accountSid must be AC followed by 32 hex digits');
  }

  /** `http://127.0.0.1:<port>`: what TWILIO_API_BASE_URL points at. */
  get baseUrl(): string {
    if (!this.http) throw new Error('FakeTwilio not started');
    return this.http.origin;
  }

  async start(): Promise<this> {
    this.http = new LocalServer('FakeTwilio', (req, res) => void this.handle(req, res), this.options);
    await this.http.listen();
    return this;
  }

  /** Cancels scripted steps, closes every connection and the server. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.http?.close();
  }

  /**
   * Where the bridge is: `publicBaseUrl` is what Twilio is configured with (PUBLIC_BASE_URL, what signatures
   * cover, what callbacks in TwiML and requests name), `localBaseUrl` where the fake actually sends them.
   */
  pointAt(bridge: { publicBaseUrl: string; localBaseUrl: string }): this {
    this.bridge = { publicBaseUrl: bridge.publicBaseUrl.replace(/\/+$/, ''), localBaseUrl: bridge.localBaseUrl.replace(/\/+$/, '') };
    return this;
  }

  /** Dials participants at OpenAI's SIP connector through this emulator, whose webhooks go to `webhookUrl`. */
  connectOpenAI(emulator: OpenAIEmulator, webhookUrl: string): this {
    this.openai = { emulator, webhookUrl };
    return this;
  }

  /**
   * Queues answers for the next requests of an action (`participants.create`, `calls.update`), one per request. A
   * non-2xx answer is sent as given and nothing happens (`{status: 429, body: {code: 20429, …}}`, `{status: 500}`);
   * a 2xx answer carries out the request at once (the participant's call is placed) and answers after `delayMs` —
   * a Twilio that did the work but whose answer came too late for the client.
   */
  respondNext(action: 'participants.create' | 'calls.update', ...responses: FakeTwilioResponse[]): void {
    const queue = this.faults.get(action) ?? [];
    queue.push(...responses);
    this.faults.set(action, queue);
  }

  /**
   * Scripts the next participant created that matches (by label, or any), once: its phone rings, answers and joins,
   * or does not answer, is busy, fails… Each step posts what Twilio would — call-progress events to the
   * participant's `StatusCallback` (for the events it asked for), conference events to the conference's.
   */
  nextParticipant(match: { label?: string }, ...steps: ParticipantStep[]): void {
    this.scripts.push({ match: (p) => match.label === undefined || p.label === match.label, steps });
  }

  /**
   * An incoming call: posts the signed voice webhook (`POST <public base>/twilio/voice`) as Twilio does, reads the
   * TwiML answer and, when it is a `<Dial><Conference>`, puts the caller in that conference (posting
   * `conference-start` and the caller's `participant-join` to its status callback). `openaiScript` is what the
   * agent's OpenAI call will play, once the bridge dials it.
   */
  async placeCall(
    options: { from?: string; to?: string; callSid?: string; callToken?: string | null; openaiScript?: ConversationScript } = {},
  ): Promise<PlacedCall> {
    const callSid = options.callSid ?? sid('CA');
    const from = options.from ?? '+14155550123';
    const to = options.to ?? '+18005551212';
    const callToken = options.callToken === undefined ? fakeCallToken() : options.callToken;
    if (options.openaiScript) this.openaiScripts.set(callSid, options.openaiScript);
    const params: Record<string, string> = {
      AccountSid: this.options.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: callSid,
      CallStatus: 'ringing',
      Called: to,
      Caller: from,
      Direction: 'inbound',
      From: from,
      To: to,
      ...(callToken !== null ? { CallToken: callToken } : {}),
    };
    const answer = await this.post(`${this.requireBridge().publicBaseUrl}/twilio/voice`, params);
    const conference = this.joinByTwiml(answer.body, callSid, from, to);
    if (conference) {
      await this.conferenceEvent(conference, 'conference-start');
      await this.conferenceEvent(conference, 'participant-join', conference.participants.find((p) => p.callSid === callSid));
    }
    return { callSid, callToken, status: answer.status, contentType: answer.contentType, twiml: answer.body, conference };
  }

  /** The caller hangs up: they leave the conference, which ends (their `endConferenceOnExit`), dropping everyone. */
  async hangUpCaller(callSid: string): Promise<void> {
    const caller = this.participants.find((p) => p.callSid === callSid);
    if (caller) await this.finish(caller, 'completed');
  }

  /** Resolves with the OpenAI call the conference's agent leg placed (with `connectOpenAI`). */
  async openaiCall(conferenceName: string, timeoutMs = 5000): Promise<EmulatedCall> {
    return this.waitUntil(
      () => this.participants.find((p) => p.conferenceName === conferenceName && p.openaiCall)?.openaiCall,
      timeoutMs,
      `no OpenAI call for conference ${conferenceName}`,
    );
  }

  /** Requests recorded for an action, optionally only those whose parameters match. */
  requestsFor(action: string, params: Record<string, string> = {}): FakeTwilioRequest[] {
    return this.requests.filter((r) => r.action === action && Object.entries(params).every(([k, v]) => r.params[k] === v));
  }

  /** Resolves once a request matches (past or future). */
  waitForRequest(predicate: (r: FakeTwilioRequest) => boolean, timeoutMs = 5000): Promise<FakeTwilioRequest> {
    return this.waitUntil(() => this.requests.find(predicate), timeoutMs, 'no matching request');
  }

  /** Resolves once a callback the fake posted matches (past or future), after the bridge answered it. */
  waitForCallback(predicate: (c: FakeTwilioCallback) => boolean, timeoutMs = 5000): Promise<FakeTwilioCallback> {
    return this.waitUntil(() => this.callbacks.find(predicate), timeoutMs, 'no matching callback');
  }

  /** `X-Twilio-Signature` for a POST of `params` to `url`: base64 HMAC-SHA1 of the URL and the sorted name+value pairs. */
  sign(url: string, params: Record<string, string>): string {
    const data = Object.keys(params)
      .sort()
      .reduce((text, key) => text + key + params[key], url);
    return createHmac('sha1', this.options.authToken).update(Buffer.from(data, 'utf8')).digest('base64');
  }

  /**
   * POSTs form `params` to a bridge URL (public form: it is signed as is and sent to the local address), signed
   * unless `signature` replaces it (`null`: no header at all). Recorded in `callbacks`.
   */
  async post(
    url: string,
    params: Record<string, string>,
    options: { signature?: string | null } = {},
  ): Promise<{ status: number; body: string; contentType: string | null }> {
    const sentAt = performance.now();
    const signature = options.signature === undefined ? this.sign(url, params) : options.signature;
    const response = await fetch(this.localUrl(url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'TwilioProxy/1.1',
        ...(signature !== null ? { 'x-twilio-signature': signature } : {}),
      },
      body: new URLSearchParams(params).toString(),
    });
    const body = await response.text();
    this.callbacks.push({ url, params, status: response.status, sentAt, at: performance.now() });
    return { status: response.status, body, contentType: response.headers.get('content-type') };
  }

  // -------------------------------------------------------------------------------------------------------------
  // REST API

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = parseForm(Buffer.concat(chunks).toString('utf8'));
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const auth = basicAuth(req.headers.authorization);
    const participants = new RegExp(`^${API}/Accounts/([^/]+)/Conferences/([^/]+)/Participants\\.json$`).exec(path);
    const calls = new RegExp(`^${API}/Accounts/([^/]+)/Calls/([^/]+)\\.json$`).exec(path);
    const action = req.method !== 'POST' ? path : participants ? 'participants.create' : calls ? 'calls.update' : path;
    const account = (participants ?? calls)?.[1];

    let answer: FakeTwilioResponse;
    let after: (() => void) | undefined;
    if (req.method !== 'POST' || (!participants && !calls)) answer = NOT_FOUND(path);
    else if (!auth || auth.username !== this.options.accountSid || auth.password !== this.options.authToken || account !== this.options.accountSid) {
      answer = UNAUTHORIZED;
    } else {
      const fault = this.faults.get(action)?.shift();
      if (fault && fault.status >= 300) answer = fault;
      else {
        const done = participants
          ? this.createParticipant(safeDecode(participants[2]), params)
          : this.updateCall(safeDecode(calls![2]), params);
        answer = { ...done.answer, ...(fault ? { status: fault.status, delayMs: fault.delayMs } : {}) };
        after = done.after;
      }
    }
    this.requests.push({ method: req.method ?? '', path, action, params, auth, status: answer.status, at });
    if (answer.delayMs) {
      // The work is done at once; only the answer is late.
      after?.();
      after = undefined;
      await new Promise((resolve) => this.later(answer.delayMs!, () => resolve(undefined)));
    }
    if (!res.destroyed) {
      const body = answer.status < 300 ? shaped(answer.body, this.replyShape, action) : answer.body;
      const payload = answer.raw ? answer.raw.text : body === undefined ? '' : JSON.stringify(body);
      const contentType = answer.raw ? answer.raw.contentType : 'application/json';
      res.writeHead(answer.status, { ...(contentType ? { 'content-type': contentType } : {}), 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    }
    after?.();
  }

  private createParticipant(conferenceRef: string, params: FormParams): { answer: FakeTwilioResponse; after?: () => void } {
    const from = single(params.From);
    const to = single(params.To);
    if (!to || !from) {
      return { answer: { status: 400, body: { code: 21604, message: "A 'To' and a 'From' are required.", status: 400 } } };
    }
    let conference = [...this.conferences.values()].find((c) => c.sid === conferenceRef);
    if (!conference) {
      // A name creates the conference, as Twilio does; an unknown SID is an error.
      if (/^CF[0-9a-f]{32}$/i.test(conferenceRef)) return { answer: NOT_FOUND(conferenceRef) };
      conference = this.conference(conferenceRef);
    }
    if (conference.ended) return { answer: { status: 400, body: { code: 20003, message: 'Conference is completed', status: 400 } } };
    const conferenceCallback = single(params.ConferenceStatusCallback);
    if (conferenceCallback && conference.statusCallback === undefined) {
      // As on Twilio, the first conference status callback given is the conference's.
      conference.statusCallback = conferenceCallback;
      conference.statusCallbackEvents = list(params.ConferenceStatusCallbackEvent);
    }
    const participant: FakeParticipant = {
      callSid: sid('CA'),
      conferenceSid: conference.sid,
      conferenceName: conference.name,
      label: single(params.Label),
      from,
      to,
      params,
      status: 'queued',
      statusCallback: single(params.StatusCallback),
      statusCallbackEvents: list(params.StatusCallbackEvent),
      endConferenceOnExit: single(params.EndConferenceOnExit) === 'true',
    };
    conference.participants.push(participant);
    this.participants.push(participant);
    const now = new Date().toUTCString();
    const body = {
      account_sid: this.options.accountSid,
      call_sid: participant.callSid,
      label: participant.label ?? null,
      call_sid_to_coach: null,
      coaching: false,
      conference_sid: conference.sid,
      date_created: now,
      date_updated: now,
      end_conference_on_exit: participant.endConferenceOnExit,
      muted: false,
      hold: false,
      start_conference_on_enter: true,
      status: 'queued',
      queue_time: '0',
      uri: `${API}/Accounts/${this.options.accountSid}/Conferences/${conference.sid}/Participants/${participant.callSid}.json`,
    };
    return {
      answer: { status: 201, body },
      after: () => {
        if (OPENAI_SIP.test(to)) this.dialOpenAI(participant);
        const script = this.scripts.find((s) => s.match(participant));
        if (script) {
          this.scripts.splice(this.scripts.indexOf(script), 1);
          this.play(participant, script.steps);
        }
      },
    };
  }

  private updateCall(callSid: string, params: FormParams): { answer: FakeTwilioResponse; after?: () => void } {
    const participant = this.participants.find((p) => p.callSid === callSid);
    if (!participant) return { answer: NOT_FOUND(callSid) };
    const status = single(params.Status);
    const body = () => ({ sid: callSid, account_sid: this.options.accountSid, status: participant.status, from: participant.from, to: participant.to });
    if (status !== 'completed' && status !== 'canceled') return { answer: { status: 200, body: body() } };
    if (isFinal(participant.status)) {
      return { answer: { status: 400, body: { code: 21220, message: 'Call is not in-progress. Cannot redirect.', status: 400 } } };
    }
    return { answer: { status: 200, body: { ...body(), status: 'completed' } }, after: () => void this.finish(participant, 'completed') };
  }

  // -------------------------------------------------------------------------------------------------------------
  // What happens to calls and conferences

  private conference(name: string): FakeConference {
    let conference = this.conferences.get(name);
    if (!conference) {
      conference = { name, sid: sid('CF'), statusCallbackEvents: [], participants: [], ended: false };
      this.conferences.set(name, conference);
    }
    return conference;
  }

  /** Reads `<Dial><Conference …>name</Conference></Dial>` from a TwiML answer and puts the caller in it. */
  private joinByTwiml(twiml: string, callSid: string, from: string, to: string): FakeConference | undefined {
    const match = /<Conference\b([^>]*)>([^<]+)<\/Conference>/.exec(twiml);
    if (!match) return undefined;
    const attributes = Object.fromEntries([...match[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], unescapeXml(m[2])]));
    const conference = this.conference(unescapeXml(match[2]));
    if (conference.statusCallback === undefined) {
      conference.statusCallback = attributes.statusCallback;
      conference.statusCallbackEvents = (attributes.statusCallbackEvent ?? '').split(/\s+/).filter(Boolean);
    }
    const caller: FakeParticipant = {
      callSid,
      conferenceSid: conference.sid,
      conferenceName: conference.name,
      label: attributes.participantLabel,
      from,
      to,
      params: {},
      status: 'in-progress',
      statusCallbackEvents: [],
      endConferenceOnExit: attributes.endConferenceOnExit === 'true',
    };
    conference.participants.push(caller);
    this.participants.push(caller);
    return conference;
  }

  /** Places the agent leg's call on the OpenAI emulator: its `X-…` URI parameters become SIP headers. */
  private dialOpenAI(participant: FakeParticipant): void {
    if (!this.openai) return;
    const { emulator, webhookUrl } = this.openai;
    const query = participant.to.includes('?') ? participant.to.slice(participant.to.indexOf('?') + 1) : '';
    const headers = query
      .split('&')
      .map((pair) => pair.split('='))
      .filter(([name, value]) => /^X-/i.test(name ?? '') && value !== undefined)
      .map(([name, value]) => ({ name, value: safeDecode(value) }));
    const call = emulator.createCall({
      from: participant.from,
      // As OpenAI reports it: the URI the leg dialled (its `?X-…` part became headers), not the caller's dialled number.
      toUri: participant.to.split('?')[0],
      sipHeaders: [...headers, { name: 'X-Twilio-CallSid', value: participant.callSid }],
      script: this.openaiScripts.get(participant.conferenceName),
    });
    participant.openaiCall = call;
    participant.status = 'in-progress';
    // The SIP leg hanging up on OpenAI's side (end_call, a REFER …) is the participant leaving, as on Twilio.
    void call.ended.then(() => {
      if (!isFinal(participant.status) && !this.stopped) void this.finish(participant, 'completed');
    });
    void emulator.deliver(webhookUrl, JSON.stringify(emulator.incomingEvent(call))).catch(() => {});
  }

  private play(participant: FakeParticipant, steps: ParticipantStep[]): void {
    const [step, ...rest] = steps;
    if (!step) return;
    this.later(step.afterMs, async () => {
      if (isFinal(participant.status)) return;
      await this.apply(participant, step.event);
      this.play(participant, rest);
    });
  }

  private async apply(participant: FakeParticipant, event: ParticipantEvent): Promise<void> {
    const conference = this.conferences.get(participant.conferenceName)!;
    switch (event) {
      case 'ringing':
        participant.status = 'ringing';
        return this.callProgress(participant, 'ringing', 'ringing');
      case 'answered':
        participant.status = 'in-progress';
        return this.callProgress(participant, 'answered', 'in-progress');
      case 'join':
        participant.status = 'in-progress';
        return this.conferenceEvent(conference, 'participant-join', participant);
      case 'leave':
      case 'completed':
        return this.finish(participant, 'completed');
      case 'no-answer':
      case 'busy':
      case 'failed':
        return this.finish(participant, event);
    }
  }

  /** A participant's call ends: it leaves the conference (if it was in it), which may end the conference. */
  private async finish(participant: FakeParticipant, status: 'completed' | 'no-answer' | 'busy' | 'failed'): Promise<void> {
    if (isFinal(participant.status)) return;
    const wasIn = participant.status === 'in-progress';
    participant.status = status;
    participant.openaiCall?.hangUp();
    const conference = this.conferences.get(participant.conferenceName)!;
    if (wasIn) await this.conferenceEvent(conference, 'participant-leave', participant);
    await this.callProgress(participant, 'completed', status);
    if (wasIn && participant.endConferenceOnExit && !conference.ended) {
      conference.ended = true;
      for (const other of conference.participants) await this.finish(other, 'completed');
      await this.conferenceEvent(conference, 'conference-end');
    }
  }

  /** A call-progress event to the participant's own StatusCallback, when it asked for that event. */
  private async callProgress(participant: FakeParticipant, event: string, callStatus: string): Promise<void> {
    if (!participant.statusCallback || !participant.statusCallbackEvents.includes(event)) return;
    await this.safePost(participant.statusCallback, {
      AccountSid: this.options.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: participant.callSid,
      CallStatus: callStatus,
      CallbackSource: 'call-progress-events',
      Direction: 'outbound-api',
      From: participant.from,
      To: participant.to,
      SequenceNumber: String(this.sequence++),
      Timestamp: new Date().toUTCString(),
    });
  }

  /** A conference event to the conference's status callback, when its TwiML asked for that kind of event. */
  private async conferenceEvent(conference: FakeConference, event: string, participant?: FakeParticipant): Promise<void> {
    const kind = event.replace(/^(conference|participant)-/, '');
    if (!conference.statusCallback || !conference.statusCallbackEvents.includes(kind)) return;
    await this.safePost(conference.statusCallback, {
      AccountSid: this.options.accountSid,
      ConferenceSid: conference.sid,
      FriendlyName: conference.name,
      StatusCallbackEvent: event,
      SequenceNumber: String(this.sequence++),
      Timestamp: new Date().toUTCString(),
      ...(participant
        ? {
            CallSid: participant.callSid,
            ...(participant.label ? { ParticipantLabel: participant.label } : {}),
            Muted: 'false',
            Hold: 'false',
            Coaching: 'false',
            EndConferenceOnExit: String(participant.endConferenceOnExit),
            StartConferenceOnEnter: 'true',
          }
        : {}),
    });
  }

  private async safePost(url: string, params: Record<string, string>): Promise<void> {
    if (this.stopped) return;
    try {
      await this.post(url, params);
    } catch {
      // Twilio does not retry status callbacks either; the failure is visible as a missing entry in `callbacks`.
    }
  }

  private localUrl(publicUrl: string): string {
    const bridge = this.requireBridge();
    return publicUrl.startsWith(bridge.publicBaseUrl) ? bridge.localBaseUrl + publicUrl.slice(bridge.publicBaseUrl.length) : publicUrl;
  }

  private requireBridge(): { publicBaseUrl: string; localBaseUrl: string } {
    if (!this.bridge) throw new Error('FakeTwilio: call pointAt() first');
    return this.bridge;
  }

  private later(ms: number, run: () => unknown): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void run();
    }, ms);
    this.timers.add(timer);
  }

  private async waitUntil<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`FakeTwilio: ${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function isFinal(status: ParticipantStatus): boolean {
  return status === 'completed' || status === 'no-answer' || status === 'busy' || status === 'failed';
}

function parseForm(text: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = params[key];
    params[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

function basicAuth(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Looks like Twilio's CallToken: an opaque, URL-safe token (a JWT-like string). */
function fakeCallToken(): string {
  return `eyJ${randomBytes(24).toString('base64url')}.${randomBytes(48).toString('base64url')}`;
}

/** Fields the bridge reads from an answer, so that `nulls` never blanks them: the resource's own SID. */
const IDENTITY_FIELDS = new Set(['sid', 'call_sid', 'account_sid']);

/** Fields no version of the resource documents yet (a newer API may add any). */
const UNKNOWN_FIELDS = { future_field: { nested: [1, null] }, region: 'us1' };

/**
 * A successful answer's body in `shape`: `full` is the whole resource as Twilio sends it (a participant already
 * has every documented field; a call gets the rest of the Call resource) plus fields nobody documented; `nulls` is
 * that same resource with every field but its SIDs null.
 */
function shaped(body: unknown, shape: TwilioReplyShape, action: string): unknown {
  if (typeof body !== 'object' || body === null || shape === 'documented') return body;
  const fields = body as Record<string, unknown>;
  const full = { ...(action === 'calls.update' ? callResource(fields) : fields), ...UNKNOWN_FIELDS };
  if (shape === 'full') return full;
  return Object.fromEntries(Object.entries(full).map(([name, value]) => [name, IDENTITY_FIELDS.has(name) ? value : null]));
}

/** The Call resource (`GET/POST /Accounts/{sid}/Calls/{sid}.json`) around the few fields the fake tracks. */
function callResource(fields: Record<string, unknown>): Record<string, unknown> {
  const now = new Date().toUTCString();
  const ended = fields.status === 'completed';
  const uri = `${API}/Accounts/${String(fields.account_sid)}/Calls/${String(fields.sid)}`;
  const sub = (name: string) => `${uri}/${name}.json`;
  return {
    sid: fields.sid,
    date_created: now,
    date_updated: now,
    parent_call_sid: null,
    account_sid: fields.account_sid,
    to: fields.to,
    to_formatted: fields.to,
    from: fields.from,
    from_formatted: fields.from,
    phone_number_sid: null,
    status: fields.status,
    start_time: now,
    end_time: ended ? now : null,
    duration: ended ? '0' : null,
    price: null,
    price_unit: 'USD',
    direction: 'outbound-api',
    answered_by: null,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri: `${uri}.json`,
    subresource_uris: {
      feedback: sub('Feedback'),
      user_defined_messages: sub('UserDefinedMessages'),
      notifications: sub('Notifications'),
      recordings: sub('Recordings'),
      streams: sub('Streams'),
      payments: sub('Payments'),
      user_defined_message_subscriptions: sub('UserDefinedMessageSubscriptions'),
      siprec: sub('Siprec'),
      events: sub('Events'),
      feedback_summaries: `${API}/Accounts/${String(fields.account_sid)}/Calls/FeedbackSummary.json`,
    },
    ...fields,
  };
}
