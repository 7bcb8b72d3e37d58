import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh capture directory for this run; workers inherit the variable. */
// Loaded by jest as is (no transform): keep in step with LOG_DIR_VARIABLE in log-capture.ts.
export default function setup() {
  process.env.BRIDGE_TEST_LOG_DIR = mkdtempSync(join(tmpdir(), 'bridge-e2e-logs-'));
}
