import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CallConversation } from './call-conversation.js';
import type { RealtimeClientEvent } from '#events';

const created = (id: string) => ({ type: 'response.created', response: { id, status: 'in_progress' } });
const done = (id: string) => ({ type: 'response.done', response: { id, status: 'completed' } });
const started = (id: string) => ({ type: 'output_audio_buffer.started', response_id: id });
const stopped = (id: string) => ({ type: 'output_audio_buffer.stopped', response_id: id });

describe('CallConversation', () => {
  let sent: RealtimeClientEvent[];
  let conversation: CallConversation;
  const creates = () => sent.filter((e) => e.type === 'response.create');

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    conversation = new CallConversation({ send: (e) => (sent.push(e), true), createdTimeoutMs: 1000, playbackStartGraceMs: 200 });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('response.create', () => {
    it('is sent at once when nothing is in progress, with its own event id', () => {
      conversation.requestResponse();
      expect(creates()).toEqual([{ type: 'response.create', event_id: 'evt_tools_1' }]);
    });

    it('waits for the response in progress to be done (the API refuses a second one)', () => {
      conversation.observe(created('r1'));
      conversation.requestResponse();
      expect(creates()).toHaveLength(0);
      conversation.observe(done('r1'));
      expect(creates()).toHaveLength(1);
    });

    it('follows tool outputs only once every tool run has answered, as one response', () => {
      const releaseA = conversation.beginRun();
      const releaseB = conversation.beginRun();
      conversation.requestResponse();
      releaseA();
      releaseA(); // releasing twice changes nothing
      expect(creates()).toHaveLength(0);
      conversation.requestResponse();
      releaseB();
      expect(creates()).toHaveLength(1);
    });

    it('does not make an instructed response (say) wait for tool runs', () => {
      conversation.beginRun();
      conversation.requestResponse({ instructions: 'Say: one moment' });
      expect(creates()).toEqual([{ type: 'response.create', event_id: 'evt_tools_1', response: { instructions: 'Say: one moment' } }]);
    });

    it('sends one response.create at a time, the next after the first has been created and done', () => {
      conversation.requestResponse({ instructions: 'a' });
      conversation.requestResponse({ instructions: 'b' });
      expect(creates()).toHaveLength(1);
      conversation.observe(created('r1'));
      expect(creates()).toHaveLength(1);
      conversation.observe(done('r1'));
      expect(creates()).toHaveLength(2);
    });

    it('sends the next one when the API rejects ours, or when no response.created comes', () => {
      conversation.requestResponse({ instructions: 'a' });
      conversation.requestResponse({ instructions: 'b' });
      conversation.requestResponse({ instructions: 'c' });
      conversation.observe({ type: 'error', error: { code: 'conversation_already_has_active_response', event_id: 'evt_tools_1' } });
      expect(creates()).toHaveLength(2);
      jest.advanceTimersByTime(1000);
      expect(creates()).toHaveLength(3);
    });

    it('sends nothing once the call has ended', () => {
      conversation.observe(created('r1'));
      conversation.requestResponse();
      conversation.end();
      conversation.observe(done('r1'));
      conversation.requestResponse();
      expect(creates()).toHaveLength(0);
    });
  });

  describe('afterNextResponsePlayed', () => {
    it('resolves when the next response is done and its audio has stopped', async () => {
      let outcome: string | undefined;
      void conversation.afterNextResponsePlayed(10_000).then((o) => (outcome = o));
      conversation.observe(created('goodbye'));
      conversation.observe(started('goodbye'));
      conversation.observe(done('goodbye'));
      await Promise.resolve();
      expect(outcome).toBeUndefined(); // still playing
      conversation.observe(stopped('goodbye'));
      await Promise.resolve();
      expect(outcome).toBe('played');
    });

    it('ignores the response already in progress and waits for the next one', async () => {
      conversation.observe(created('r1'));
      let outcome: string | undefined;
      void conversation.afterNextResponsePlayed(10_000).then((o) => (outcome = o));
      conversation.observe(started('r1'));
      conversation.observe(done('r1'));
      conversation.observe(stopped('r1'));
      await Promise.resolve();
      expect(outcome).toBeUndefined();
      conversation.observe(created('r2'));
      conversation.observe(started('r2'));
      conversation.observe(done('r2'));
      conversation.observe({ type: 'output_audio_buffer.cleared', response_id: 'r2' });
      await Promise.resolve();
      expect(outcome).toBe('played');
    });

    it('counts a response without audio as played after a short grace', async () => {
      let outcome: string | undefined;
      void conversation.afterNextResponsePlayed(10_000).then((o) => (outcome = o));
      conversation.observe(created('r1'));
      conversation.observe(done('r1'));
      await Promise.resolve();
      expect(outcome).toBeUndefined();
      jest.advanceTimersByTime(200);
      await Promise.resolve();
      expect(outcome).toBe('played');
    });

    it('gives up after the maximum wait, and reports a call that ended', async () => {
      const waiting = conversation.afterNextResponsePlayed(3000);
      conversation.observe(created('r1'));
      conversation.observe(started('r1'));
      jest.advanceTimersByTime(3000);
      await expect(waiting).resolves.toBe('timeout');

      const ending = conversation.afterNextResponsePlayed(3000);
      conversation.end();
      await expect(ending).resolves.toBe('ended');
    });
  });

  describe('whenSilent', () => {
    it('resolves at once when the agent is silent, else when its response is done and its audio stopped', async () => {
      await expect(conversation.whenSilent(100)).resolves.toBe(true);
      conversation.observe(created('r1'));
      conversation.observe(started('r1'));
      let silent: boolean | undefined;
      void conversation.whenSilent(5000).then((s) => (silent = s));
      conversation.observe(done('r1'));
      await Promise.resolve();
      expect(silent).toBeUndefined();
      conversation.observe(stopped('r1'));
      await Promise.resolve();
      expect(silent).toBe(true);
    });

    it('resolves false after the maximum wait', async () => {
      conversation.observe(created('r1'));
      const waiting = conversation.whenSilent(500);
      jest.advanceTimersByTime(500);
      await expect(waiting).resolves.toBe(false);
    });
  });
});
