/**
 * What the deploy files must agree with that the app's code does not state in one place (docs/endpoints.md,
 * docs/operations.md); test/deploy-manifests.e2e-spec.ts checks that the real app answers the manifests' probe
 * paths. The tools, what turns them on and the variables the service cannot start without are not kept here: they
 * are read from the build (service.ts, tool-catalog.ts).
 */
export const LIVENESS_PATH = '/health';
export const READINESS_PATH = '/health/ready';
export const METRICS_PATH = '/metrics';
export const SERVICE_PORT = 80;
export const ACTIVE_CALLS_METRIC = 'bridge_active_calls';
/** SHUTDOWN_DRAIN_SECONDS when unset. */
export const DEFAULT_DRAIN_SECONDS = 300;
/** After the drain: flushing the notification outbox (up to 5 s), then a send under way (up to 8 s), and closing. */
export const MIN_FLUSH_MARGIN_SECONDS = 15;
/** ACCEPT_TIMEOUT_MS when unset (calls.config.ts): an accept in flight at SIGTERM is waited for. */
export const DEFAULT_ACCEPT_TIMEOUT_MS = 4000;
/**
 * With PostgreSQL, the hand-over of the live calls on SIGTERM (CallOwnership.handOver): every sideband closed (a close
 * handshake is cut after 2 s), the record writer flushed, the leases released. Measured with the outbox flush and all:
 * 6 calls on 3 replicas, the process exits in under 10 s (test/call-handover.e2e-spec.ts).
 */
export const HANDOVER_SECONDS = 5;
/** The readiness check waits up to 1 s for storage. */
export const MIN_READINESS_TIMEOUT_SECONDS = 2;
/**
 * Required of a deployment, not of the app: replicas share PostgreSQL, and a read-only root filesystem leaves
 * nowhere for SQLite. (What the app itself cannot start without comes from its configuration: BuiltService.)
 */
export const DEPLOYMENT_REQUIRED_SECRETS = ['DATABASE_URL'];
/** Variables whose values are credentials: from the Secret only, never a literal or a ConfigMap. */
export const CREDENTIALS = new Set([
  'OPENAI_API_KEY',
  'OPENAI_WEBHOOK_SECRET',
  'DATABASE_URL',
  'DISCORD_WEBHOOK_URL',
  'TWILIO_AUTH_TOKEN',
  'ADMIN_API_TOKEN',
  'METRICS_TOKEN',
  'ORDER_API_TOKEN',
]);
/** What every value of secret.example.yaml contains. */
export const PLACEHOLDER = 'replace-me';
