/**
 * Start-up advice about how Node runs the service, from facts the process can see (printed once, never enforced).
 *
 * One CPU of its own (a Kubernetes pod with exclusive cores, `taskset`, a one-core VM): V8 collects garbage on helper
 * threads, four by default, and during a full collection they all become runnable on that one CPU at once. The event
 * loop then gets a fifth of it for 50–100 ms, and every webhook waiting meanwhile waits that long. With
 * `--single-threaded-gc` the same work runs on the event-loop thread in short incremental steps instead. Measured with
 * `npm run bench` (bridge pinned to one core, 200 calls/s): webhook → accept p99 about 50 ms without the flag, 11–18 ms
 * with it. With more than one CPU the flag costs more than it saves (the helpers then run beside the event loop),
 * and a CPU quota (a pod's `limits.cpu`) leaves every CPU in the affinity mask, so neither is advised.
 */
export function singleCpuGcAdvice(cpus: number, execArgv: readonly string[]): string | undefined {
  if (cpus !== 1 || execArgv.some((arg) => arg === '--single-threaded-gc' || arg === '--single-threaded')) return undefined;
  return (
    'this process may run on 1 CPU only: V8 collects garbage on helper threads that then take that CPU from the ' +
    'event loop (tail latency of webhooks); start node with --single-threaded-gc (deploy/kubernetes/README.md, "CPU")'
  );
}
