import { ConfigValidationError } from '#config';

/**
 * Sets and restores a fixed list of environment variables around tests that read configuration from
 * process.env (the way the service does at start-up).
 */
export class EnvironmentSandbox<Name extends string> {
  private readonly saved: Record<string, string | undefined>;

  constructor(private readonly variables: readonly Name[]) {
    this.saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
  }

  /** Unsets every variable of the sandbox, then sets these. */
  set(values: Partial<Record<Name, string>>): void {
    for (const name of this.variables) delete process.env[name];
    Object.assign(process.env, values);
  }

  restore(): void {
    for (const name of this.variables) {
      if (this.saved[name] === undefined) delete process.env[name];
      else process.env[name] = this.saved[name];
    }
  }
}

/** Runs `fn` with exactly these service variables set, then restores process.env as it was. */
export async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) if (SERVICE_VARIABLE.test(key)) delete process.env[key];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

const SERVICE_VARIABLE =
  /^(OPENAI_|WEBHOOK_|SIDEBAND_|ACCEPT_|AGENT_|WELCOME_|INPUT_|TURN_|TRANSCRIPT_|STORAGE_|ADMIN_|DISCORD_|NOTIFY_|TOOL_|TOOLS_|DTMF_|TRANSFER_|END_CALL_|ORDER_API_|HUMAN_AGENT_NUMBER$|DATA_DIR$|DATABASE_URL$|PORT$|HOST$|LOG_|METRICS_|MAX_CONCURRENT_CALLS$|SHUTDOWN_|TWILIO_|PUBLIC_BASE_URL$|TENANTS_)/;

/** The ConfigValidationError `run` throws; fails loudly when it throws nothing or something else. */
export function configErrorOf(run: () => unknown): ConfigValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw new Error(`expected a ConfigValidationError, got: ${String(error)}`);
  }
  throw new Error('expected a ConfigValidationError, nothing was thrown');
}
