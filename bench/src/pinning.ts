import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * CPU pinning when there are two CPUs or more and taskset: the bridge on CPU 0, this process (the load) on the others
 * (its affinity is restored afterwards).
 */
export function pinning(load = 'the load'): { bridgeCpu?: string; restore: () => void; note: string } {
  const none = (why: string) => ({ restore: () => {}, note: `not pinned (${why}): the bridge and the load share the CPUs` });
  const count = cpus().length;
  if (process.platform !== 'linux' || count < 2) return none('fewer than 2 CPUs');
  const others = count === 2 ? '1' : `1-${count - 1}`;
  let original: string;
  try {
    original = /:\s*([0-9a-f,]+)\s*$/i.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }))?.[1] ?? '';
    execFileSync('taskset', ['-a', '-p', '-c', others, String(process.pid)], { stdio: 'ignore' });
  } catch {
    return none('taskset is not available or not permitted');
  }
  return {
    bridgeCpu: '0',
    restore: () => {
      if (original) execFileSync('taskset', ['-a', '-p', original, String(process.pid)], { stdio: 'ignore' });
    },
    note: `the bridge pinned to CPU 0 (\`taskset -c 0\`), ${load} to CPU ${others}`,
  };
}
