import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CallRecordWriter } from './call-record-writer.service.js';
import type { CallContext } from '#events';
import { SqlCallRecordsRepository, StorageHealth, migrateToLatest, type CallRecordWrite } from '#storage';
import { createTestDatabase, type TestDatabase } from '#testing';

/** The real repository on SQLite, keeping each batch the writer hands it. */
class BatchRecordingRepository extends SqlCallRecordsRepository {
  readonly batches: Array<Array<CallRecordWrite['kind']>> = [];
  override write(writes: readonly CallRecordWrite[]): Promise<void> {
    this.batches.push(writes.map((w) => w.kind));
    return super.write(writes);
  }
}

const context = (callId: string): CallContext => ({ callId, callerNumber: '+14155550100', dialledNumber: '+14155550199' }) as CallContext;
const accepted = (callId: string) => ({ callId, context: context(callId), acceptedAt: new Date(), profile: 'default', callerTranscription: true });
const line = (callId: string, seq: number) => ({ callId, seq, speaker: 'agent' as const, text: `line ${seq}`, itemId: `item_${seq}`, interrupted: false, placeholder: false, at: new Date() });

describe('CallRecordWriter', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    await migrateToLatest(database.db, 'sqlite');
  });
  afterAll(async () => database?.drop());

  function writer() {
    const records = new BatchRecordingRepository(database.db, new StorageHealth());
    return { records, writer: new CallRecordWriter(records) };
  }

  it('stores what waits as one batch, in order, with adjacent lines of several calls as one write', async () => {
    const { records, writer: w } = writer();
    w.onAccepted(accepted('rtc_w1'));
    w.onLine(line('rtc_w1', 0));
    w.onAccepted(accepted('rtc_w2'));
    w.onLine(line('rtc_w2', 0));
    w.onLine(line('rtc_w1', 1));
    w.onEnded({ callId: 'rtc_w1', reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() });
    await w.flush();

    expect(records.batches).toEqual([['create', 'lines', 'create', 'lines', 'end']]);
    expect(await records.getCall('rtc_w1')).toMatchObject({ status: 'ended', endReason: 'remote_closed' });
    expect(await records.getCall('rtc_w2')).toMatchObject({ status: 'active' });
    expect((await records.transcript('rtc_w1')).map((l) => l.seq)).toEqual([0, 1]);
  });

  it('bounds a batch: 250 waiting writes are stored as 200, then 50', async () => {
    const { records, writer: w } = writer();
    for (let i = 0; i < 125; i++) {
      w.onAccepted(accepted(`rtc_many_${i}`));
      w.onEnded({ callId: `rtc_many_${i}`, reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() });
    }
    await w.flush();
    expect(records.batches.map((b) => b.length)).toEqual([200, 50]);
    expect(await records.getCall('rtc_many_124')).toMatchObject({ status: 'ended' });
  });
});
