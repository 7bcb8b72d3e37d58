import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { CallEndReason, RealtimeServerEvent } from '#events';
import { SidebandSession, type SidebandSessionOptions } from './sideband-session.js';
import type { IgnoredFrame } from './sideband-wire-audit.js';

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          for (const peer of server.clients) peer.terminate();
          server.close(() => resolve());
        }),
    ),
  );
});

interface Harness {
  session: SidebandSession;
  /** The server's end of the socket. */
  peer: WebSocket;
  events: RealtimeServerEvent[];
  /** Frames reported as carrying no readable event. */
  ignored: Array<{ kind: IgnoredFrame; size: number }>;
  logger: { warn: jest.Mock; log: jest.Mock; error: jest.Mock };
  onClose: jest.Mock<(reason: CallEndReason, code: number) => void>;
  /** Resolves with the first event satisfying `predicate` (past or future). */
  eventWhere(predicate: (event: RealtimeServerEvent) => boolean): Promise<RealtimeServerEvent>;
  /** Resolves with onClose's arguments. */
  ended: Promise<[CallEndReason, number]>;
}

/**
 * Starts a local WebSocket server, connects a client the way SidebandConnector does (paused on open), lets the
 * server send `greeting` frames before the session exists, then builds the session on the paused socket.
 */
async function openSession(
  options: Partial<Pick<SidebandSessionOptions, 'pingIntervalMs' | 'sessionCapMs'>> = {},
  serverOptions: ServerOptions = {},
  greeting: Array<string | Buffer> = [],
): Promise<Harness> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...serverOptions });
  servers.push(server);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const peerReady = new Promise<WebSocket>((resolve) =>
    server.once('connection', (peer: WebSocket) => {
      for (const frame of greeting) peer.send(frame, { binary: Buffer.isBuffer(frame) });
      resolve(peer);
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime?call_id=rtc_test`);
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => {
      client.pause();
      resolve();
    });
    client.once('error', reject);
  });
  client.removeAllListeners('error');
  const peer = await peerReady;

  const events: RealtimeServerEvent[] = [];
  const waiters: Array<{ predicate: (e: RealtimeServerEvent) => boolean; resolve: (e: RealtimeServerEvent) => void }> =
    [];
  let resolveEnded!: (args: [CallEndReason, number]) => void;
  const ended = new Promise<[CallEndReason, number]>((resolve) => (resolveEnded = resolve));
  const onClose = jest.fn((reason: CallEndReason, code: number) => resolveEnded([reason, code]));
  const logger = { warn: jest.fn(), log: jest.fn(), error: jest.fn() };
  const ignored: Array<{ kind: IgnoredFrame; size: number }> = [];

  const session = new SidebandSession('rtc_test', client, {
    pingIntervalMs: options.pingIntervalMs ?? 60_000,
    sessionCapMs: options.sessionCapMs ?? 60_000,
    logger: logger as unknown as Logger,
    onEvent: (event) => {
      events.push(event);
      for (const waiter of waiters.filter((w) => w.predicate(event))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    onIgnoredFrame: (kind, size) => ignored.push({ kind, size }),
    onClose,
  });

  const eventWhere = (predicate: (event: RealtimeServerEvent) => boolean) => {
    const seen = events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<RealtimeServerEvent>((resolve) => waiters.push({ predicate, resolve }));
  };
  return { session, peer, events, ignored, logger, onClose, eventWhere, ended };
}

const frame = (event: Record<string, unknown>) => JSON.stringify(event);
const END = frame({ type: 'test.end' });
const isEnd = (event: RealtimeServerEvent) => event.type === 'test.end';

function nextMessage(peer: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => peer.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

describe('SidebandSession', () => {
  describe('receiving', () => {
    it('delivers frames sent before it attached, then later frames, in order', async () => {
      const { peer, events, eventWhere } = await openSession({}, {}, [
        frame({ type: 'session.created', event_id: 'e1' }),
        frame({ type: 'conversation.item.added', event_id: 'e2' }),
      ]);
      peer.send(frame({ type: 'response.created', event_id: 'e3' }));
      peer.send(END);
      await eventWhere(isEnd);
      expect(events.map((e) => e.event_id ?? e.type)).toEqual(['e1', 'e2', 'e3', 'test.end']);
    });

    it('maps beta event names to their GA names', async () => {
      const { peer, events, eventWhere } = await openSession();
      peer.send(frame({ type: 'conversation.item.created', item: { id: 'i1' } }));
      peer.send(frame({ type: 'response.audio_transcript.delta', delta: 'Hel' }));
      peer.send(frame({ type: 'response.audio_transcript.done', transcript: 'Hello' }));
      peer.send(frame({ type: 'response.text.done', text: 'x' }));
      peer.send(END);
      await eventWhere(isEnd);
      expect(events).toEqual([
        { type: 'conversation.item.added', item: { id: 'i1' } },
        { type: 'response.output_audio_transcript.delta', delta: 'Hel' },
        { type: 'response.output_audio_transcript.done', transcript: 'Hello' },
        { type: 'response.output_text.done', text: 'x' },
        { type: 'test.end' },
      ]);
    });

    it('never delivers audio deltas, binary frames or non-JSON frames', async () => {
      const audio = 'QUJD'.repeat(100_000);
      const { peer, events, ignored, eventWhere, logger } = await openSession({}, {}, [
        frame({ event_id: 'a0', type: 'response.output_audio.delta', delta: audio }),
      ]);
      peer.send(frame({ type: 'response.output_audio_transcript.delta', delta: 'Hi' }));
      peer.send(frame({ event_id: 'a1', type: 'response.output_audio.delta', delta: audio }));
      peer.send(frame({ type: 'response.audio.delta', event_id: 'a2', delta: audio }));
      peer.send(Buffer.from(frame({ type: 'response.created' })), { binary: true });
      peer.send('this is not json');
      peer.send('{"type":"truncated');
      peer.send('42');
      peer.send('null');
      peer.send(frame({ no: 'type' }));
      peer.send(frame({ type: 7 }));
      peer.send(END);
      await eventWhere(isEnd);
      expect(events).toEqual([{ type: 'response.output_audio_transcript.delta', delta: 'Hi' }, { type: 'test.end' }]);
      // Nothing is dropped silently: every frame but the audio deltas is reported, by kind and size.
      expect(ignored).toEqual([
        { kind: 'binary', size: frame({ type: 'response.created' }).length },
        { kind: 'not_json', size: 16 },
        { kind: 'not_json', size: 18 },
        { kind: 'no_type', size: 2 },
        { kind: 'no_type', size: 4 },
        { kind: 'no_type', size: 13 },
        { kind: 'no_type', size: 10 },
      ]);
      // Ignored frames are logged without their content.
      const logged = logger.warn.mock.calls.map((call) => String(call[0])).join('\n');
      expect(logged).not.toContain('this is not json');
      expect(logged).not.toContain(audio.slice(0, 32));
    });

    it('still delivers an audio done event', async () => {
      const { peer, eventWhere } = await openSession();
      peer.send(frame({ type: 'response.audio.done', item_id: 'i1' }));
      await expect(eventWhere((e) => e.item_id === 'i1')).resolves.toEqual({
        type: 'response.output_audio.done',
        item_id: 'i1',
      });
    });

    it('delivers error events and logs their type and code', async () => {
      const { peer, eventWhere, logger } = await openSession();
      const error = { type: 'invalid_request_error', code: 'invalid_event', message: 'bad', event_id: 'evt_567' };
      peer.send(frame({ type: 'error', event_id: 'event_890', error }));
      await expect(eventWhere((e) => e.type === 'error')).resolves.toEqual({
        type: 'error',
        event_id: 'event_890',
        error,
      });
      expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/invalid_request_error.*invalid_event.*evt_567 \(not an event this call sent recently\)/));
    });

    it('tells an error naming one of its own events from one naming an event it never sent', async () => {
      const { session, peer, eventWhere, logger } = await openSession();
      const sent = nextMessage(peer);
      session.send({ type: 'response.create' });
      const ours = (await sent).event_id as string;
      peer.send(frame({ type: 'error', error: { type: 'invalid_request_error', code: 'x', message: 'm', event_id: ours } }));
      await eventWhere((e) => e.type === 'error');
      const line = String(logger.warn.mock.calls.at(-1)?.[0]);
      expect(line).toContain(`event_id=${ours}:`);
      expect(line).not.toContain('not an event');
      expect(session.isOpen).toBe(true);
    });

    it('only ever delivers string event types', async () => {
      const { peer, events, eventWhere } = await openSession();
      peer.send(frame({ type: 'constructor' }));
      peer.send(frame({ type: 'toString' }));
      peer.send(END);
      await eventWhere(isEnd);
      for (const event of events) expect(typeof event.type).toBe('string');
    });
  });

  describe('sending', () => {
    it('stamps a unique event_id on client events that have none', async () => {
      const { session, peer } = await openSession();
      const first = nextMessage(peer);
      expect(session.send({ type: 'response.create' })).toBe(true);
      const a = await first;
      const second = nextMessage(peer);
      expect(session.send({ type: 'response.create', response: { instructions: 'Greet' } })).toBe(true);
      const b = await second;

      expect(a).toMatchObject({ type: 'response.create' });
      expect(b).toMatchObject({ type: 'response.create', response: { instructions: 'Greet' } });
      expect(typeof a.event_id).toBe('string');
      expect(typeof b.event_id).toBe('string');
      expect(a.event_id).not.toBe('');
      expect(a.event_id).not.toBe(b.event_id);
    });

    it('keeps an event_id the caller set', async () => {
      const { session, peer } = await openSession();
      const received = nextMessage(peer);
      session.send({ type: 'session.update', event_id: 'mine_1', session: { type: 'realtime' } });
      await expect(received).resolves.toEqual({
        type: 'session.update',
        event_id: 'mine_1',
        session: { type: 'realtime' },
      });
    });

    it('does not modify the event object it was given', async () => {
      const { session, peer } = await openSession();
      const event = { type: 'response.create' };
      const received = nextMessage(peer);
      session.send(event);
      await received;
      expect(event).toEqual({ type: 'response.create' });
    });

    it('returns false once the session is closing or closed', async () => {
      const { session } = await openSession();
      expect(session.isOpen).toBe(true);
      const closing = session.close('shutdown');
      expect(session.send({ type: 'response.create' })).toBe(false);
      await closing;
      expect(session.isOpen).toBe(false);
      expect(session.send({ type: 'response.create' })).toBe(false);
    });
  });

  describe('ending', () => {
    it('closes with the given code and reports our reason', async () => {
      const { session, peer, onClose } = await openSession();
      const peerClosed = once(peer, 'close');
      await session.close('shutdown', 1001);
      expect(onClose).toHaveBeenCalledTimes(1);
      expect(onClose).toHaveBeenCalledWith('shutdown', 1001);
      const [peerCode] = await peerClosed;
      expect(peerCode).toBe(1001);
    });

    it('reports remote_closed with the close code when the server closes', async () => {
      const { peer, ended, onClose, session } = await openSession();
      peer.close(4000, 'call over');
      await expect(ended).resolves.toEqual(['remote_closed', 4000]);
      await session.closed;
      expect(onClose).toHaveBeenCalledTimes(1);
    });

    it('reports the expected reason when the server closes after a transfer we caused, and can take it back', async () => {
      const transferred = await openSession();
      transferred.session.expectEnd('transferred');
      transferred.peer.close(1000);
      await expect(transferred.ended).resolves.toEqual(['transferred', 1000]);

      const withdrawn = await openSession();
      withdrawn.session.expectEnd('transferred');
      withdrawn.session.expectEnd(undefined);
      withdrawn.peer.close(1000);
      await expect(withdrawn.ended).resolves.toEqual(['remote_closed', 1000]);
    });

    it('still reports its own close reason when a transfer was expected', async () => {
      const { session, ended } = await openSession();
      session.expectEnd('transferred');
      await session.close('shutdown', 1001);
      await expect(ended).resolves.toEqual(['shutdown', 1001]);
    });

    it('keeps the first reason: a close after the remote close does not call onClose again', async () => {
      const { peer, session, ended, onClose } = await openSession();
      peer.close(1000);
      await ended;
      await session.close('shutdown', 1001);
      expect(onClose).toHaveBeenCalledTimes(1);
      expect(onClose).toHaveBeenCalledWith('remote_closed', 1000);
    });

    it('ends the session at the session cap', async () => {
      const { ended, peer } = await openSession({ sessionCapMs: 200 });
      const peerClosed = once(peer, 'close');
      await expect(ended).resolves.toEqual(['session_cap', 1000]);
      await peerClosed;
    });

    it('keeps a session whose server answers pings alive', async () => {
      const { session, peer, onClose } = await openSession({ pingIntervalMs: 100 });
      let pings = 0;
      await new Promise<void>((resolve) =>
        peer.on('ping', () => {
          if (++pings === 3) resolve();
        }),
      );
      expect(session.isOpen).toBe(true);
      expect(onClose).not.toHaveBeenCalled();
    });

    it('ends the session with error when the server stops answering pings', async () => {
      const { ended, logger } = await openSession({ pingIntervalMs: 50 }, { autoPong: false });
      const [reason, code] = await ended;
      expect(reason).toBe('error');
      expect(code).toBe(1006);
      expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('keepalive'));
    });
  });
});
