// A virtual X display for MiniBrowser, which has no headless mode (toolchain.md). Started once per
// test process when no DISPLAY is set, on a display number Xvfb picks itself (-displayfd), and
// killed when the process exits.
import { spawnTied, type TiedProcess } from './tied-process.js';

let display: Promise<string> | undefined;
let server: TiedProcess | undefined;

/** The DISPLAY to run X clients on: the environment's, or a private Xvfb started on first use. */
export function ensureDisplay(): Promise<string> {
  if (process.env.DISPLAY) return Promise.resolve(process.env.DISPLAY);
  display ??= new Promise<string>((resolve, reject) => {
    server = spawnTied('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp']);
    const xvfb = server.process;
    let out = '';
    let err = '';
    const fail = (why: string) => reject(new Error(`[harness] Xvfb did not start: ${why}${err ? `\n${err.trim()}` : ''}`));
    xvfb.on('error', (error) => fail(error.message));
    xvfb.on('exit', (code) => fail(`exited with ${code}`));
    xvfb.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    xvfb.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // Xvfb writes the display number and a newline once it accepts connections.
      const match = /^(\d+)\n/.exec(out);
      if (match) resolve(`:${match[1]}`);
    });
    // Xvfb lives as long as this process: never keep the event loop alive for it.
    xvfb.unref();
    for (const stream of [xvfb.stdin, xvfb.stdout, xvfb.stderr]) (stream as unknown as { unref(): void }).unref();
  });
  return display;
}

/** Stops the Xvfb this process started, if any. */
export async function stopDisplay(): Promise<void> {
  const running = server;
  server = undefined;
  display = undefined;
  await running?.stop();
}
