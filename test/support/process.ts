import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureOutput, rememberSensitive, secretsOf } from './log-capture.js';

export const BUILT_MAIN = fileURLToPath(new URL('../../dist/apps/bridge/src/main.js', import.meta.url));
export const BUILT_MIGRATE = fileURLToPath(new URL('../../dist/apps/bridge/src/migrate.js', import.meta.url));
export const BUILT_DEMO = fileURLToPath(new URL('../../dist/apps/demo/src/main.js', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/**
 * Runs the built service as production does (`node dist/…/main.js`), in an empty directory (no .env). Its output
 * joins the run's log scan when it exits, checked against the secrets of `env` among others.
 */
export function runBuiltBridge(env: Record<string, string>): RunningProcess {
  rememberSensitive('secret', secretsOf(env));
  const bridge = runBuilt(BUILT_MAIN, env);
  void bridge.exited.then(() => captureOutput(bridge.output()));
  return bridge;
}

/** The variables a built bridge needs to serve calls from an OpenAI emulator, on any free local port. */
export function emulatorEnv(emulator: { baseUrl: string }, apiKey: string, webhookSecret: string): Record<string, string> {
  return { PORT: '0', HOST: '127.0.0.1', OPENAI_API_KEY: apiKey, OPENAI_WEBHOOK_SECRET: webhookSecret, OPENAI_BASE_URL: emulator.baseUrl };
}

/** The URL the built service listens on, from its start-up log line. */
export async function listeningUrl(bridge: RunningProcess, timeoutMs?: number): Promise<string> {
  const [, url] = await bridge.waitForOutput(/listening on (http:\/\/[^\s"]+)/, timeoutMs);
  return url;
}

export function runBuilt(entry: string, env: Record<string, string>, args: string[] = []): RunningProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'bridge-')),
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`output never matched ${pattern}:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** Polls the SQLite outbox until `count` notifications are stored and still undelivered. */
export async function waitForPendingOutbox(file: string, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare("select count(*) as n from notification_outbox where status = 'pending'").get() as { n: number };
        if (row.n >= count) return;
      } catch {
        // the schema is not there yet
      } finally {
        db.close();
      }
    }
    await sleep(50);
  }
  throw new Error(`the outbox never held ${count} pending notifications`);
}

export { waitUntil } from '#testing';
