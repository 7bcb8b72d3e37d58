import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HangupClose, ScriptSource, ServerEvent } from './conversation-script.js';
import { LocalServer } from './local-server.js';
import { writeError, writeSuccess, type ErrorShape, type SuccessShape } from './reply-shapes.js';
import { signWebhook } from './webhook-signer.js';

export interface EmulatorOptions {
  /** The API key the emulator expects as `Authorization: Bearer …`. */
  apiKey: string;
  /** The secret it signs webhooks with. */
  webhookSecret: string;
  port?: number;
  host?: string;
  /** How every successful call-control request is answered unless a call says otherwise (default `empty`). */
  replyShape?: SuccessShape;
  /**
   * Whether the bridge closing a call's sideband ends the call (default true, the simple model). False is what
   * OpenAI's SIP leg does: the caller and the agent go on talking, the script keeps playing, what is sent while no
   * sideband is open is lost (`lostEvents`), and a new handshake attaches again — the ground for handover tests.
   */
  bridgeCloseEndsCall?: boolean;
  /**
   * A handshake while a sideband is already open on the call (not documented by OpenAI, so both answers are
   * modelled): `refuse` answers 409 `sideband_already_connected` (default: at most one sideband per call);
   * `replace` opens the new one and closes the old with 4409.
   */
  secondSideband?: 'refuse' | 'replace';
}

export interface RecordedRequest {
  method: string;
  path: string;
  callId: string;
  action: 'accept' | 'reject' | 'refer' | 'hangup' | string;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
  /** performance.now() when the request arrived. */
  receivedAt: number;
}

export interface HandshakeAttempt {
  callId: string;
  url: string;
  authorization?: string;
  status: 101 | 401 | 403 | 404 | 409;
  at: number;
}

/** One sideband socket a call had: when it opened and closed (performance.now()), and who closed it. */
export interface SidebandRecord {
  openedAt: number;
  closedAt?: number;
  closeCode?: number;
  closedBy?: 'caller' | 'bridge' | 'hangup' | 'refer' | 'replaced';
}

export interface FaultResponse {
  status: number;
  body?: unknown;
  /** Answer after this long (to exceed the bridge's deadline). */
  delayMs?: number;
  /** The shape of an error answer (default `openai-json`, with `body`); a 2xx fault takes the call's reply shape. */
  shape?: ErrorShape;
}

export interface PlaceCallOptions {
  callId?: string;
  from?: string;
  to?: string;
  /** The To header's URI as is, instead of `to` at a carrier (the OpenAI SIP URI a Twilio participant dialled). */
  toUri?: string;
  /** Extra SIP headers (Diversion, X-conferenceName, …). */
  sipHeaders?: Array<{ name: string; value: string }>;
  script?: ScriptSource;
  webhookId?: string;
}

export interface WebhookDelivery {
  status: number;
  body: string;
  webhookId: string;
}

type CallState = 'ringing' | 'accepted' | 'rejected' | 'ended';

const OPENAI_ERROR = (status: number, code: string, message: string) => ({
  status,
  body: { error: { message, type: 'invalid_request_error', code, param: null } },
});

/** A refused sideband handshake: reason phrase and error code. */
const HANDSHAKE_REFUSALS: Record<401 | 403 | 404 | 409, [string, string]> = {
  401: ['Unauthorized', 'invalid_api_key'],
  403: ['Forbidden', 'project_mismatch'],
  404: ['Not Found', 'call_id_not_found'],
  409: ['Conflict', 'sideband_already_connected'],
};

/** VAD tuning fields a SIP accept rejects with 400 "Unknown parameter". */
const REJECTED_VAD_FIELDS = ['threshold', 'prefix_padding_ms', 'silence_duration_ms'];

/** One emulated phone call: its state, what the bridge sent it, and its sideband socket. */
export class EmulatedCall {
  state: CallState = 'ringing';
  acceptBody?: Record<string, unknown>;
  readonly clientEvents: ServerEvent[] = [];
  /** Queued answers for the next accept requests (faults); empty means 200. */
  readonly acceptFaults: FaultResponse[] = [];
  /** The next N sideband handshakes answer 404 (the socket is "not ready yet" right after accept). */
  handshake404s = 0;
  /** Every sideband handshake answers this (a key of another OpenAI project: 401, or 403). */
  handshakeRefusal?: 401 | 403;
  /** How this call's successful call-control requests are answered (default: the emulator's `replyShape`). */
  replyShape?: SuccessShape;
  /** When `session.created` is sent: first (default), after the script's first step, or never (it can be missed). */
  sessionCreated: 'first' | 'late' | 'never' = 'first';
  /** What a REFER does: `completes` closes the sideband like a finished transfer; `ignored` leaves it open. */
  referBehaviour: 'completes' | 'ignored' = 'completes';
  /** Stop answering pings, like a peer that vanished without closing the socket. */
  unresponsive = false;
  /** See `EmulatorOptions.bridgeCloseEndsCall` (set from the emulator's options at creation). */
  bridgeCloseEndsCall = true;
  /** See `EmulatorOptions.secondSideband`. */
  secondSideband: 'refuse' | 'replace' = 'refuse';
  /** The open sideband, if any. */
  socket?: WebSocket;
  /** Every sideband the call had, in order of opening. */
  readonly sidebands: SidebandRecord[] = [];
  /** Server events the script sent while no sideband was open (what a bridge between two owners misses). */
  readonly lostEvents: ServerEvent[] = [];
  scriptError?: Error;
  readonly connected: Promise<void>;
  /** Resolves when the call ends (the sideband closes, or the call ends while none is open), with who ended it. */
  readonly ended: Promise<{ code: number; by: 'caller' | 'bridge' | 'hangup' | 'refer' }>;
  private resolveConnected!: () => void;
  private resolveEnded!: (value: { code: number; by: 'caller' | 'bridge' | 'hangup' | 'refer' }) => void;
  private closingBy?: 'caller' | 'hangup' | 'refer';
  private playing = false;
  private waiters: Array<{ type: string; resolve: (e: ServerEvent) => void; from: number }> = [];
  private sidebandWaiters: Array<() => void> = [];

  constructor(
    readonly callId: string,
    readonly sipHeaders: Array<{ name: string; value: string }>,
    readonly script?: ScriptSource,
  ) {
    this.connected = new Promise((resolve) => (this.resolveConnected = resolve));
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** True while a sideband is open on the call. */
  get attached(): boolean {
    return this.socket !== undefined;
  }

  /** Sends a server event on the sideband now; with none open it is recorded in `lostEvents`. */
  send(event: ServerEvent): void {
    if (this.socket) this.socket.send(JSON.stringify(event));
    else this.lostEvents.push(event);
  }

  /** Waits until the call has had `count` sidebands opened (the first one is 1). */
  async waitForSideband(count: number, timeoutMs = 5000): Promise<SidebandRecord> {
    const deadline = Date.now() + timeoutMs;
    while (this.sidebands.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.callId}: ${this.sidebands.length} sideband(s) opened, not ${count}, within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.sidebandWaiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return this.sidebands[count - 1]!;
  }

  /** The caller hangs up: the sideband closes normally (or without a status code, or by a dropped connection). */
  hangUp(how: HangupClose = 'normal'): void {
    this.close('caller', how);
  }

  /** Waits for a client event of this type, counting events already received unless `onlyNew`. */
  waitForClientEvent(type: string, timeoutMs = 5000, onlyNew = false): Promise<ServerEvent> {
    const from = onlyNew ? this.clientEvents.length : 0;
    const existing = this.clientEvents.slice(from).find((e) => e.type === type);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} from the bridge within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ type, from, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Waits until the bridge has sent at least `count` client events of this type since the call started. */
  async waitForClientEvents(type: string, count: number, timeoutMs = 5000): Promise<ServerEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.clientEvents.filter((e) => e.type === type);
      if (matching.length >= count) return matching;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fewer than ${count} ${type} from the bridge within ${timeoutMs} ms`);
      await this.waitForClientEvent(type, left, true);
    }
  }

  /** @internal A new sideband: the previous one (if `replace` let it stay open) is closed with 4409. */
  attach(socket: WebSocket): void {
    const previous = this.socket;
    const record: SidebandRecord = { openedAt: performance.now() };
    this.sidebands.push(record);
    this.socket = socket;
    if (previous) {
      const old = this.sidebands[this.sidebands.length - 2];
      if (old) old.closedBy = 'replaced';
      previous.close(4409, 'another sideband connected');
    }
    socket.on('message', (data) => {
      let event: ServerEvent;
      try {
        event = JSON.parse(data.toString());
      } catch {
        event = { type: '<invalid json>' };
      }
      this.clientEvents.push(event);
      this.waiters = this.waiters.filter((w) => (w.type === event.type ? (w.resolve(event), false) : true));
    });
    socket.on('ping', (data) => {
      if (!this.unresponsive) socket.pong(data);
    });
    socket.once('close', (code) => {
      record.closedAt = performance.now();
      record.closeCode = code;
      record.closedBy ??= this.closingBy ?? 'bridge';
      if (this.socket === socket) this.socket = undefined;
      if (record.closedBy === 'replaced') return;
      if (this.closingBy || this.bridgeCloseEndsCall) {
        this.state = 'ended';
        this.resolveEnded({ code, by: this.closingBy ?? 'bridge' });
      }
      // Otherwise the bridge let go and the call goes on: the next handshake attaches again.
    });
    this.resolveConnected();
    for (const wake of this.sidebandWaiters.splice(0)) wake();
  }

  /** @internal The call ends (the caller, a REST hangup, a completed REFER), with or without a sideband open. */
  close(by: 'caller' | 'hangup' | 'refer', how: HangupClose = 'normal'): void {
    if (this.state === 'ended') return;
    this.closingBy ??= by;
    this.state = 'ended';
    if (!this.socket) {
      this.resolveEnded({ code: 1000, by });
      return;
    }
    if (how === 'abnormal') this.socket.terminate();
    else if (how === 'no-status') this.socket.close();
    else this.socket.close(1000);
  }

  /** @internal Plays the script once, across every sideband the call has. */
  start(sessionCreated: ServerEvent): void {
    if (this.playing) {
      this.send(sessionCreated); // a reattached sideband starts with its own session.created
      return;
    }
    this.playing = true;
    if (this.sessionCreated === 'first') this.send(sessionCreated);
    void this.play(this.sessionCreated === 'late' ? sessionCreated : undefined);
  }

  /** @internal Plays the script; an unmet expectation is recorded in `scriptError` and ends the play. */
  async play(sessionCreated?: ServerEvent): Promise<void> {
    let first = true;
    for (const step of this.script?.steps ?? []) {
      if (this.state === 'ended') return;
      if (!first && sessionCreated && this.sessionCreated === 'late') {
        this.send(sessionCreated);
        sessionCreated = undefined;
      }
      first = false;
      switch (step.kind) {
        case 'send':
          this.send(step.event);
          break;
        case 'raw':
          if (this.socket) this.socket.send(step.frame);
          else this.lostEvents.push({ type: '<raw frame>' });
          break;
        case 'binary':
          if (this.socket) this.socket.send(randomBytes(step.bytes), { binary: true });
          else this.lostEvents.push({ type: '<binary frame>' });
          break;
        case 'pause':
          await new Promise((r) => setTimeout(r, step.ms).unref()); // a long pause never holds the process open
          break;
        case 'expect':
          try {
            await this.waitForClientEvents(step.type, step.count ?? 1, step.timeoutMs);
          } catch (error) {
            this.scriptError = error as Error;
            return;
          }
          break;
        case 'hangup':
          this.hangUp(step.close);
          return;
      }
    }
  }
}

/**
 * A local stand-in for OpenAI's side of a SIP call: the call-control REST endpoints, the sideband WebSocket
 * playing conversation scripts, and signed `realtime.call.incoming` webhooks. It records everything it receives.
 */
export class OpenAIEmulator {
  /** Every call-control request, in arrival order (`clearRequests()` empties it and the per-call index together). */
  readonly requests: RecordedRequest[] = [];
  /** The same requests by call id: `requestsFor` stays O(1) when thousands are recorded (the webhook benchmark). */
  private readonly requestsByCall = new Map<string, RecordedRequest[]>();
  readonly handshakes: HandshakeAttempt[] = [];
  readonly calls = new Map<string, EmulatedCall>();
  private http?: LocalServer;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false });
  /** How successful call-control requests are answered, for calls that do not say otherwise. */
  replyShape: SuccessShape;

  constructor(private readonly options: EmulatorOptions) {
    this.replyShape = options.replyShape ?? 'empty';
  }

  get baseUrl(): string {
    if (!this.http) throw new Error('emulator not started');
    return `${this.http.origin}/v1`;
  }

  async start(): Promise<this> {
    this.http = new LocalServer('emulator', (req, res) => void this.handleHttp(req, res), this.options);
    this.http.server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as Socket, head));
    await this.http.listen();
    return this;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await this.http?.close();
  }

  /** Creates a call the bridge may accept, without sending the webhook (see `placeCall`). */
  createCall(options: PlaceCallOptions = {}): EmulatedCall {
    const callId = options.callId ?? `rtc_${randomBytes(16).toString('hex')}`;
    const headers = [
      { name: 'From', value: `"Caller" <sip:${options.from ?? '+14155550123'}@sip.example.com>;tag=${randomBytes(4).toString('hex')}` },
      { name: 'To', value: options.toUri ? `<${options.toUri}>` : `<sip:${options.to ?? '+18005551212'}@sip.example.com>` },
      { name: 'Call-ID', value: `${randomBytes(8).toString('hex')}@carrier.example` },
      ...(options.sipHeaders ?? []),
    ];
    const call = new EmulatedCall(callId, headers, options.script);
    call.bridgeCloseEndsCall = this.options.bridgeCloseEndsCall ?? true;
    call.secondSideband = this.options.secondSideband ?? 'refuse';
    this.calls.set(callId, call);
    return call;
  }

  /** The `realtime.call.incoming` event for a call, as OpenAI sends it. */
  incomingEvent(call: EmulatedCall): Record<string, unknown> {
    return {
      object: 'event',
      id: `evt_${randomBytes(12).toString('hex')}`,
      type: 'realtime.call.incoming',
      created_at: Math.floor(Date.now() / 1000),
      data: { call_id: call.callId, sip_headers: call.sipHeaders },
    };
  }

  /** Creates a call and delivers its signed webhook to the bridge. */
  async placeCall(webhookUrl: string, options: PlaceCallOptions = {}): Promise<{ call: EmulatedCall; delivery: WebhookDelivery }> {
    const call = this.createCall(options);
    const delivery = await this.deliver(webhookUrl, JSON.stringify(this.incomingEvent(call)), { webhookId: options.webhookId });
    return { call, delivery };
  }

  /** Headers for a signed delivery of `body`. */
  signedHeaders(body: string, opts: { webhookId?: string; timestamp?: number | string; secret?: string } = {}): Record<string, string> {
    const webhookId = opts.webhookId ?? `wh_${randomBytes(12).toString('hex')}`;
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    return {
      'content-type': 'application/json',
      'user-agent': 'OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(opts.secret ?? this.options.webhookSecret, webhookId, timestamp, body),
    };
  }

  /** POSTs a webhook body, signed unless `headers` replaces the signed set. */
  async deliver(
    url: string,
    body: string,
    opts: { webhookId?: string; timestamp?: number | string; secret?: string; headers?: Record<string, string> } = {},
  ): Promise<WebhookDelivery> {
    const headers = opts.headers ?? this.signedHeaders(body, opts);
    const response = await fetch(url, { method: 'POST', headers, body });
    return { status: response.status, body: await response.text(), webhookId: headers['webhook-id'] ?? '' };
  }

  /** Requests recorded for a call (optionally one action). */
  requestsFor(callId: string, action?: string): RecordedRequest[] {
    const recorded = this.requestsByCall.get(callId) ?? [];
    return action === undefined ? [...recorded] : recorded.filter((r) => r.action === action);
  }

  /** Forgets every recorded request. */
  clearRequests(): void {
    this.requests.length = 0;
    this.requestsByCall.clear();
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const url = new URL(req.url ?? '/', 'http://emulator');
    const match = /^\/v1\/realtime\/calls\/([^/]+)\/(accept|reject|refer|hangup)$/.exec(url.pathname);
    const callId = match ? decodeURIComponent(match[1]) : '';
    const action = match?.[2] ?? url.pathname;

    let answer: FaultResponse;
    if (req.method !== 'POST' || !match) answer = OPENAI_ERROR(404, 'not_found', `No route ${req.method} ${url.pathname}`);
    else if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) answer = OPENAI_ERROR(401, 'invalid_api_key', 'Incorrect API key provided.');
    else answer = this.callControl(callId, action, body);

    const recorded: RecordedRequest = { method: req.method ?? '', path: url.pathname, callId, action, headers: req.headers, body, status: answer.status, receivedAt };
    this.requests.push(recorded);
    const forCall = this.requestsByCall.get(callId);
    if (forCall) forCall.push(recorded);
    else this.requestsByCall.set(callId, [recorded]);
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (res.destroyed) return;
    if (answer.status >= 200 && answer.status < 300) {
      // Like OpenAI, 200 with an empty body by default; or whichever shape the call (or the emulator) is set to.
      writeSuccess(res, this.calls.get(callId)?.replyShape ?? this.replyShape, callId);
    } else {
      writeError(res, answer.status, answer.shape ?? 'openai-json', answer.body);
    }
  }

  private callControl(callId: string, action: string, body: unknown): FaultResponse {
    const call = this.calls.get(callId);
    if (!call || call.state === 'ended' || call.state === 'rejected') {
      return OPENAI_ERROR(404, 'call_id_not_found', `Call ${callId} not found.`);
    }
    switch (action) {
      case 'accept': {
        const fault = call.acceptFaults.shift();
        if (fault) return fault;
        const problem = acceptProblem(body);
        if (problem) return OPENAI_ERROR(400, 'invalid_request_error', problem);
        call.state = 'accepted';
        call.acceptBody = body as Record<string, unknown>;
        return { status: 200 };
      }
      case 'reject':
        call.state = 'rejected';
        return { status: 200 };
      case 'hangup':
        setTimeout(() => call.close('hangup'), 20);
        return { status: 200 };
      case 'refer': {
        const target = (body as { target_uri?: unknown } | undefined)?.target_uri;
        if (typeof target !== 'string' || !/^(tel|sip|sips):/.test(target)) {
          return OPENAI_ERROR(400, 'invalid_request_error', 'target_uri must be a tel: or sip: URI.');
        }
        if (call.referBehaviour === 'completes') setTimeout(() => call.close('refer'), 50);
        return { status: 200 };
      }
      default:
        return OPENAI_ERROR(404, 'not_found', 'Unknown action.');
    }
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const callId = url.searchParams.get('call_id') ?? '';
    const call = this.calls.get(callId);
    const refuse = (status: 401 | 403 | 404 | 409) => {
      this.handshakes.push({ callId, url: req.url ?? '', authorization: req.headers.authorization, status, at: performance.now() });
      const [reason, code] = HANDSHAKE_REFUSALS[status];
      socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"${code}"}}`);
    };
    if (url.pathname !== '/v1/realtime') return refuse(404);
    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) return refuse(401);
    if (!call || call.state !== 'accepted') return refuse(404);
    if (call.handshakeRefusal) return refuse(call.handshakeRefusal);
    if (call.handshake404s > 0) {
      call.handshake404s--;
      return refuse(404);
    }
    if (call.socket && call.secondSideband === 'refuse') return refuse(409);
    this.handshakes.push({ callId, url: req.url ?? '', authorization: req.headers.authorization, status: 101, at: performance.now() });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (call.state !== 'accepted') return ws.close(1000); // ended during the upgrade
      call.attach(ws);
      call.start({
        type: 'session.created',
        event_id: `event_${randomBytes(6).toString('hex')}`,
        session: { type: 'realtime', object: 'realtime.session', id: `sess_${randomBytes(6).toString('hex')}`, ...(call.acceptBody ?? {}) },
      });
    });
  }
}

/** What the real accept endpoint refuses (as far as is known): a wrong type and the VAD fields SIP rejects. */
function acceptProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'The body must be a JSON object.';
  const accept = body as { type?: unknown; audio?: { input?: { turn_detection?: Record<string, unknown> } } };
  if (accept.type !== 'realtime') return "Missing required parameter: 'type'.";
  const vad = accept.audio?.input?.turn_detection ?? {};
  const unknown = REJECTED_VAD_FIELDS.find((field) => field in vad);
  return unknown ? `Unknown parameter: 'audio.input.turn_detection.${unknown}'.` : undefined;
}
