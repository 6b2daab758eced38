// The "before" side of a before/after comparison: builds another commit of outbox (a git worktree
// under .tmp/bench/, sharing this checkout's node_modules) and keeps a copy of its dist/, so one
// bench run measures both builds on the same machine, in the same minutes, alternating samples.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds `ref` and returns `{ ref, commit, dist }` (dist: a directory like dist/). The worktree is
 * removed afterwards; the copy of its dist/ stays under `tmp` for the run.
 */
export function buildBaseline(root, ref, tmp, log) {
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short', `${ref}^{commit}`);
  const tree = join(tmp, 'baseline-src');
  const dist = join(tmp, 'baseline-dist');
  if (existsSync(tree)) git('worktree', 'remove', '--force', tree);
  rmSync(tree, { recursive: true, force: true });
  git('worktree', 'add', '--detach', tree, commit);
  try {
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
    log(`baseline: building ${ref} (${commit})`);
    execFileSync('npm', ['run', 'build'], { cwd: tree, stdio: 'ignore' });
    rmSync(dist, { recursive: true, force: true });
    cpSync(join(tree, 'dist'), dist, { recursive: true });
  } finally {
    git('worktree', 'remove', '--force', tree);
  }
  return { ref, commit, dist };
}
