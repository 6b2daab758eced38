// Which engines the browser tests run in: all three, or those named in OUTBOX_ENGINES
// (e.g. OUTBOX_ENGINES=chromium,firefox) to narrow a local run.

/** An engine the harness can drive. */
export type EngineName = 'chromium' | 'firefox' | 'webkit';

/** Every engine, in the order tests run them. */
export const allEngines: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

/** Parses an OUTBOX_ENGINES value; an unknown name is an error, not a silent skip. */
export function parseEngines(value: string | undefined): EngineName[] {
  if (value === undefined || value.trim() === '') return [...allEngines];
  const names = value.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  for (const name of names) {
    if (!(allEngines as readonly string[]).includes(name)) throw new Error(`[harness] OUTBOX_ENGINES: unknown engine "${name}" (known: ${allEngines.join(', ')})`);
  }
  return allEngines.filter((engine) => names.includes(engine));
}

/** The engines of this run (OUTBOX_ENGINES, default all). */
export const engines: EngineName[] = parseEngines(process.env.OUTBOX_ENGINES);
