import { readFileSync } from 'node:fs';

/** Resident memory of a process and its peak so far, in bytes, from /proc (Linux); undefined elsewhere. */
export function processMemory(pid: number | undefined): { rss: number; peakRss: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
    const memory = { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
    return Number.isFinite(memory.rss) && Number.isFinite(memory.peakRss) ? memory : undefined;
  } catch {
    return undefined;
  }
}
