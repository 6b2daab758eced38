// CPU time of this process's descendants (the browsers the harness started: every process of
// each engine, UI, content/renderer, network, GPU), read from /proc. Engine-neutral where CDP's
// ThreadTime is Chromium-only. Xvfb (WebKit's display) is left out: it is not the browser.
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

function processes() {
  const all = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
      all.push({ pid: Number(name), comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the process exited while we read
    }
  }
  return all;
}

/** Milliseconds of CPU used so far by every descendant of `root` (default: this process), Xvfb excluded. */
export function descendantsCpuMs(root = process.pid) {
  const all = processes();
  const children = new Map();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  let ticks = 0;
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop();
    if (p.comm !== 'Xvfb') ticks += p.ticks;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return (ticks * 1000) / ticksPerSecond;
}
