import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** How often the worker checkpoints (ms). */
export const CHECKPOINT_INTERVAL_MS = 500;
/**
 * The event loop's own automatic checkpoint stays as the backstop, at this many WAL pages (4 KB each). The writer
 * starts the WAL over only when every frame in it has been copied back, and frames written while the worker's
 * checkpoint ran never are, so under steady writes only the backstop starts it over; by then the worker has copied
 * almost everything, and the backstop has little left to do.
 */
export const BACKSTOP_PAGES = 10_000;
/** SQLite's own default, put back when the worker fails. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/**
 * The worker, a CommonJS script: its own connection to the file, a passive checkpoint every interval. It reports the
 * pages each checkpoint copied, or the first failure as `{ error }` (and stops): an error thrown across the thread
 * boundary can lose its message on the way.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
let db;
let timer;
const fail = (error) => {
  clearInterval(timer);
  parentPort.postMessage({ error: String((error && error.message) || error) });
  try { db && db.close(); } catch {}
  parentPort.close();
};
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
  db.pragma('synchronous = NORMAL');
  timer = setInterval(() => {
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)');
      if (result.checkpointed > 0) parentPort.postMessage(result.checkpointed);
    } catch (error) {
      fail(error);
    }
  }, workerData.intervalMs);
  parentPort.once('message', () => {
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
} catch (error) {
  fail(error);
}
`;

/**
 * SQLite checkpoints off the event loop. In WAL mode (synchronous NORMAL) a commit appends to the WAL and never waits
 * for the disk; the disk waits come at checkpoints, when the WAL's pages are copied back into the database file and
 * both are fsynced. SQLite runs one on the committing connection every 1,000 pages, and better-sqlite3 runs on the
 * event loop, so every webhook behind it waited: under load about once a second, three fsyncs of 4-6 ms on local
 * disk, far longer on network block storage. A worker thread with its own connection to the file now runs passive
 * checkpoints, which never block the writer; see BACKSTOP_PAGES for the event loop's remaining share.
 *
 * If the worker fails (it cannot open the file, a checkpoint throws), the connection's automatic checkpoint goes back
 * to SQLite's default and `onError` hears why: the database keeps working as it did before.
 */
export class SqliteCheckpointer {
  /** Checkpoints that copied pages, and how many pages, so far. */
  readonly stats = { checkpoints: 0, pages: 0 };
  private readonly worker: Worker;
  private done = false;
  private readonly exited: Promise<void>;

  constructor(
    private readonly database: Database.Database,
    file: string,
    busyTimeoutMs: number,
    private readonly onError: (error: Error) => void,
    intervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    database.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // Its own stdout and stderr (it prints nothing; failures arrive as messages and 'error'): by default a worker's are
    // piped into process.stdout and process.stderr, and opening those makes a piped stdout non-blocking, which the
    // logger's synchronous writes must not meet (see BridgeLogger).
    this.worker = new Worker(WORKER, { eval: true, stdout: true, stderr: true, workerData: { driver, file, busyTimeoutMs, intervalMs } });
    this.worker.on('message', (message: number | { error: string }) => {
      if (typeof message === 'number') {
        this.stats.checkpoints++;
        this.stats.pages += message;
      } else this.fail(new Error(message.error));
    });
    this.worker.on('error', (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.fail(new Error(`the checkpoint worker exited (code ${code})`));
        resolve();
      }),
    );
    // Never what keeps the process alive, even when a failed start-up leaves the database open. Last: adding a
    // 'message' listener refs the worker again.
    this.worker.unref();
  }

  /** Stops the worker; it closes its connection after the checkpoint it may be running. Resolves once it is gone. */
  stop(): Promise<void> {
    if (!this.done) {
      this.done = true;
      this.worker.postMessage('stop');
    }
    return this.exited;
  }

  private fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    try {
      if (this.database.open) this.database.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the connection is closing: nothing left to checkpoint on it
    }
    this.onError(error);
  }
}

