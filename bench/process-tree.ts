/**
 * CPU time and memory of the bench process's descendants (Chromium and its helpers), read from
 * /proc (Linux only). Sampled, so a process that lives less than one interval may be missed; its
 * CPU is still in `reapedChildrenCpuSeconds` once its parent has waited for it.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

interface Stat {
  ppid: number;
  cpuTicks: number;
  rssBytes: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

/** Proportional set size: shared pages split between the processes that map them. */
function readPss(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of a process, from every thread's `children` list (no scan of all of /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

function descendants(root: number): Map<number, Stat> {
  const out = new Map<number, Stat>();
  const frontier = [root];
  for (let pid = frontier.pop(); pid !== undefined; pid = frontier.pop()) {
    for (const child of childrenOf(pid)) {
      const stat = out.has(child) ? undefined : readStat(child);
      if (!stat) continue;
      out.set(child, stat);
      frontier.push(child);
    }
  }
  return out;
}

/** CPU seconds of children this process has waited for (with their own waited-for children). */
export function reapedChildrenCpuSeconds(): number {
  const raw = readFileSync('/proc/self/stat', 'latin1');
  const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

export interface TreeSampler {
  /** CPU seconds of the descendants seen since `start`, and the peak of their summed PSS (bytes). */
  stop(): { cpuSeconds: number; peakPssBytes: number; processes: number };
}

export function sampleDescendants(intervalMs = 500): TreeSampler {
  const lastCpu = new Map<number, number>();
  let peakPss = 0;
  const sample = () => {
    let pss = 0;
    for (const [pid, stat] of descendants(process.pid)) {
      lastCpu.set(pid, stat.cpuTicks);
      pss += readPss(pid) ?? stat.rssBytes;
    }
    peakPss = Math.max(peakPss, pss);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { cpuSeconds: [...lastCpu.values()].reduce((a, b) => a + b, 0) / TICKS_PER_SECOND, peakPssBytes: peakPss, processes: lastCpu.size };
    },
  };
}
