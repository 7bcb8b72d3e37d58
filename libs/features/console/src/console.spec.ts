import { describe, expect, it } from '@jest/globals';
import { RESET } from './feed/feed-log.js';
import { MemoryFeedLog } from './feed/memory-feed-log.js';
import { csvField, timelineCsv } from './records/exports.js';
import { orderTimeline, type TimelineItem } from './timeline.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));

describe('MemoryFeedLog', () => {
  it('resumes after any id it still holds, and resets for one it does not', async () => {
    const log = new MemoryFeedLog(3);
    const seen: string[] = [];
    log.subscribe((entry) => seen.push(entry.id));
    const start = log.head;
    for (let i = 0; i < 5; i++) log.publish({ type: 'timeline', callId: 'rtc_1', item: { kind: 'error', at: at(i), message: `m${i}` } });
    expect(seen).toHaveLength(5);
    expect(log.head).toBe(seen[4]);
    // Holds the last 3: resuming after the 2nd or later works, earlier resets.
    expect(((await log.since(seen[1])) as { id: string }[]).map((e) => e.id)).toEqual(seen.slice(2));
    expect(await log.since(seen[4])).toEqual([]);
    expect(await log.since(seen[0])).toBe(RESET);
    expect(await log.since(start)).toBe(RESET);
    // Another boot's id, an id from the future, garbage.
    expect(await log.since('00000000-1')).toBe(RESET);
    expect(await log.since(seen[4].replace(/\d+$/, '99'))).toBe(RESET);
    expect(await log.since('nonsense')).toBe(RESET);
  });

  it('tags an entry with its call and serializes it once', async () => {
    const log = new MemoryFeedLog(10);
    log.publish({ type: 'hello' });
    log.publish({ type: 'timeline', callId: 'rtc_2', item: { kind: 'dtmf', at: at(1), key: '5' } });
    const entries = (await log.since(log.head.replace(/\d+$/, '0'))) as { callId?: string; data: string }[];
    expect(entries.map((e) => e.callId)).toEqual([undefined, 'rtc_2']);
    expect(JSON.parse(entries[1].data)).toEqual({ type: 'timeline', callId: 'rtc_2', item: { kind: 'dtmf', at: at(1).toISOString(), key: '5' } });
  });
});

describe('orderTimeline', () => {
  it('keeps lines in seq order, places other items among them by time, and the end last', () => {
    const line = (seq: number, s: number): TimelineItem => ({ kind: 'line', at: at(s), seq, speaker: seq % 2 ? 'caller' : 'agent', text: `l${seq}`, interrupted: false, placeholder: false });
    const items: TimelineItem[] = [
      { kind: 'end', at: at(9), status: 'ended', reason: 'remote_closed' },
      line(2, 8),
      // A caller line final after the agent's next line began: seq decides.
      line(1, 7),
      line(0, 1),
      { kind: 'dtmf', at: at(3), key: '1' },
      { kind: 'error', at: at(10), message: 'late' },
    ];
    const order = orderTimeline(items).map((i) => (i.kind === 'line' ? `line${i.seq}` : i.kind));
    expect(order).toEqual(['line0', 'dtmf', 'line1', 'line2', 'error', 'end']);
  });
});

describe('CSV export', () => {
  it('quotes what needs quoting and defuses formulas, but keeps phone numbers as they are', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('+14155550100')).toBe('+14155550100');
    expect(csvField(null)).toBe('');
    expect(csvField(at(0))).toBe('2026-01-01T12:00:00.000Z');
  });

  it('writes one row per timeline item under a header', () => {
    const csv = timelineCsv([{ kind: 'line', at: at(0), seq: 0, speaker: 'agent', text: 'Hello, how can I help?', interrupted: true, placeholder: false }]);
    expect(csv).toBe('at,kind,seq,speaker,text,status,detail\r\n2026-01-01T12:00:00.000Z,line,0,agent,"Hello, how can I help?",interrupted,\r\n');
  });
});
