// What a running process holds, from /proc (Linux): for leak checks over many rounds.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessSample {
  fds: number;
  sockets: number;
  rssKb: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const fds = readdirSync(`/proc/${pid}/fd`);
  const sockets = fds.filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
  const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return { fds: fds.length, sockets, rssKb };
}
