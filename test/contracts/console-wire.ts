import type { SessionAnswer } from '#auth';
import type { CallStory, CallSummary, FeedEvent, StatsAnswer, TimelineItem } from '#console';
import type { CallPage } from '#storage';
import type * as Console from '../../apps/console/src/types.js';

/**
 * The console (apps/console) keeps its own copy of the wire shapes of docs/console.md, since it is built apart. This
 * spec pins the copy to the server's types: what the bridge sends, as JSON (dates become strings), must be what the
 * console reads — every field it reads present with a type it handles, every value of a union known to it. It is
 * checked by `npm run typecheck` (which CI runs), not by jest (ts-jest compiles without type-checking): a drift is a
 * type error here.
 */
type Json<T> = T extends Date
  ? string
  : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

/** Compiles only when `Server` (as JSON) can be used where the console expects `Client`. */
type Reads<Client, Server> = [Json<Server>] extends [Client] ? true : never;

export const contract = {
  session: true satisfies Reads<Console.Session, SessionAnswer>,
  page: true satisfies Reads<Console.CallPage, Omit<CallPage, 'calls'> & { calls: CallSummary[] }>,
  summary: true satisfies Reads<Console.CallSummary, CallSummary>,
  timeline: true satisfies Reads<Console.Timeline, CallStory>,
  item: true satisfies Reads<Console.TimelineItem, TimelineItem>,
  stats: true satisfies Reads<Console.Stats, StatsAnswer>,
  feed: true satisfies Reads<Console.FeedEvent, FeedEvent>,
};
