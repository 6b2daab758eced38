// A `kill -9` of the local collector's node process leaves its workerd child running (orphaned),
// still bound to the port and writing the same --data: the restart then fails with "Address
// already in use". The collector records its workerd in --data and a restart ends an orphan.
// Linux only (/proc); elsewhere every function here is a no-op.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {number} pid
 * @returns {{ ppid: number, comm: string, state: string, started: string } | undefined} undefined when gone
 */
function processInfo(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const [state, ppid] = fields;
    if (state === 'Z' || state === 'X') return undefined;
    // Field 22 of stat, the start time in clock ticks since boot: with the pid, it names one process
    // (a pid alone may have been reused by another workerd since).
    return { ppid: Number(ppid), comm, state: state ?? '', started: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** The workerd processes this node process has started. @returns {Set<number>} */
export function workerdChildren() {
  const found = new Set();
  if (!existsSync('/proc')) return found;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = processInfo(Number(name));
    if (info && info.ppid === process.pid && info.comm === 'workerd') found.add(Number(name));
  }
  return found;
}

/**
 * Before a start on `data`: throws when a live collector already serves it; ends (SIGKILL) a
 * workerd whose collector was killed, and waits until it is gone so its port is free.
 * @param {string} data
 */
export async function stopOrphanedWorkerd(data) {
  const file = join(data, 'workerd.pid');
  if (!existsSync(file)) return;
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return;
  }
  const workerd = Number(recorded?.workerd);
  const owner = Number(recorded?.node);
  const info = Number.isInteger(workerd) ? processInfo(workerd) : undefined;
  if (info?.comm !== 'workerd') return;
  if (Number.isInteger(owner) && owner !== process.pid && processInfo(owner) && info.ppid === owner) {
    throw new Error(`[collector] ${data} is served by a running collector (pid ${owner}): stop it first, or use another --data`);
  }
  if (info.started !== recorded?.started) return;
  console.warn(`[collector] ending workerd ${workerd}, left running on ${data} by a collector that was killed`);
  try {
    process.kill(workerd, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (processInfo(workerd) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/**
 * After a start: records the workerd that appeared since `before` (from {@link workerdChildren}).
 * @param {string} data
 * @param {Set<number>} before
 */
export function recordWorkerd(data, before) {
  const started = [...workerdChildren()].filter((pid) => !before.has(pid));
  if (started.length !== 1) return;
  const workerd = /** @type {number} */ (started[0]);
  writeFileSync(join(data, 'workerd.pid'), JSON.stringify({ node: process.pid, workerd, started: processInfo(workerd)?.started }) + '\n');
}
