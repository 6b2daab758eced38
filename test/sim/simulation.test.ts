// The deterministic simulation suite (issue 9): thousands of random histories of calls, network
// replies, storage faults, crashes, tabs and clock jumps, each checked against the invariant.
// Replay a failure with the seed and path fast-check prints:
//   SIM_SEED=<seed> SIM_PATH=<path> npx vitest run --project sim test/sim/simulation.test.ts
// The default seed is fixed, so CI runs the same 2000 histories every time (a red CI is a change,
// never a draw); SIM_SEED=random explores new ones, as a search for the next hole does. Random
// seeds can still find open holes (docs/durability.md, "Open findings", with their replays).
// SIM_RUNS sets the number of histories (default 2000); SIM_VERBOSE=1 prints each violation list;
// SIM_DEBUG=1 (and SIM_ID=<event id>) prints the end state of each history run (use with SIM_PATH).
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { historyArb } from './histories.js';
import { runHistory } from './run-history.js';

const runs = Number(process.env.SIM_RUNS ?? 2000);
const seed = process.env.SIM_SEED === 'random' ? undefined : Number(process.env.SIM_SEED ?? 1);
const path = process.env.SIM_PATH;

it(`${runs} random histories keep the invariant`, async () => {
  const started = performance.now();
  let histories = 0;
  let requests = 0;
  let tracked = 0;
  let simulatedMs = 0;
  await fc.assert(
    fc.asyncProperty(historyArb, async (history) => {
      const result = await runHistory(history);
      histories++;
      requests += result.stats.requests;
      tracked += result.stats.tracked;
      simulatedMs += result.stats.simulatedMs;
      if (process.env.SIM_VERBOSE && result.violations.length) console.log(result.violations);
      expect(result.violations).toEqual([]);
    }),
    { numRuns: runs, ...(seed === undefined ? {} : { seed }), ...(path === undefined ? {} : { path, endOnFailure: true }) },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`sim: ${histories} histories in ${seconds.toFixed(1)} s (${(histories / seconds).toFixed(0)}/s): ${tracked} events tracked, ${requests} requests, ${(simulatedMs / 3.6e6).toFixed(0)} simulated hours`);
}, 600_000);

// Replay from a seed is only worth something if a history is deterministic: the same history run
// twice must make the same requests, wake-ups and findings.
it('a history runs the same way twice (replays are exact)', async () => {
  for (const history of fc.sample(historyArb, { numRuns: 40, seed: 20261127 })) {
    const first = await runHistory(history);
    const second = await runHistory(history);
    expect(second).toEqual(first);
  }
}, 600_000);
