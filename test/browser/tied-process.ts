// Child processes that cannot outlive the test process: vitest may end a worker without running
// its 'exit' handlers, which left Xvfb and drivers behind. A shell runs the command and a watchdog
// that kills it once the shell's stdin (a pipe from this process) closes, whatever ended us.
import { spawn, type ChildProcess } from 'node:child_process';

// A background job's stdin is /dev/null in a non-interactive shell: the watchdog reads fd 3.
const script = 'exec 3<&0; "$0" "$@" </dev/null & child=$!; (cat <&3 >/dev/null; kill "$child" 2>/dev/null) & wait "$child"';

/** A process of `command args`, tied to this one. `stop()` ends it; `process` is the wrapping shell. */
export interface TiedProcess {
  process: ChildProcess;
  /** Resolves once the command exited (it is sent SIGTERM). */
  stop(): Promise<void>;
}

/** Spawns `command` with its stdout and stderr piped to the caller. */
export function spawnTied(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): TiedProcess {
  const child = spawn('sh', ['-c', script, command, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    stop() {
      child.stdin!.end();
      return exited;
    },
  };
}
