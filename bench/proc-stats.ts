// A process's CPU time (utime + stime from /proc/<pid>/stat), current RSS and peak RSS (VmRSS, VmHWM
// from /proc/<pid>/status): what the benches report of a control plane.
import { readFileSync } from 'node:fs';

export interface ProcStats {
  cpuMs: number;
  rssMb: number;
  peakMb: number;
}

/** Clock ticks are 100 Hz on Linux (USER_HZ), so one tick is 10 ms. */
const MS_PER_TICK = 10;

export function procStats(pid: number): ProcStats {
  // The command name in parentheses may hold spaces: fields are counted after its closing ") ".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs: ticks * MS_PER_TICK, rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}
