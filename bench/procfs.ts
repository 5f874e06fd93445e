/** What the benchmarks read from /proc and the OS: process RSS and the machine description. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** VmRSS of a process in bytes; the same number for node processes and mosquitto. */
export function rssOf(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

export type MachineInfo = {
  nproc: number;
  cpuModel: string;
  node: string;
  date: string;
  mosquitto: string;
  aedes: string;
  openFiles: string;
};

function tryRun(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const out = (error as { stdout?: string }).stdout ?? '';
    return out.trim();
  }
}

export function machineInfo(aedesVersion: string): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const nproc = Number(tryRun('nproc', [])) || availableParallelism();
  const mosquitto = /mosquitto version (\S+)/.exec(tryRun('/usr/sbin/mosquitto', ['-h']))?.[1] ?? 'unknown';
  const openFiles = String(openFilesLimit());
  return { nproc, cpuModel, node: process.version, date: new Date().toISOString(), mosquitto, aedes: aedesVersion, openFiles };
}

/** CPU time (user + system) a process has used so far, in seconds; clock ticks are 100 Hz on Linux. */
export function cpuSecondsOf(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ": state is field 3, utime field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The soft limit of open files this process (and its children) have; Infinity when unlimited. */
export function openFilesLimit(): number {
  const value = tryRun('sh', ['-c', 'ulimit -n']);
  return value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value) || 1024;
}

/** CPU time all processes of the machine have used so far (busy, not idle or iowait), in core-seconds. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
}
