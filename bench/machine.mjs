// The machine a run came from: figures mean little without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machine(root) {
  const cpuinfo = safe(() => readFileSync('/proc/cpuinfo', 'utf8'), '');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const git = (...args) => safe(() => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim(), '');
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'src', 'package.json', 'rollup.config.mjs') !== '';
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: Number(safe(() => execFileSync('nproc', { encoding: 'utf8' }).trim(), String(os.availableParallelism()))),
    cpu: model,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    commit: commit ? `${commit}${dirty ? ' + uncommitted changes in src/' : ''}` : 'unknown',
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** True when other processes compete for the cores (load average above half the cores). */
export function busy(info) {
  return Math.max(...info.loadAverageAtStart, ...(info.loadAverageAtEnd ?? [0])) > info.nproc / 2;
}

function safe(fn, fallback) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
