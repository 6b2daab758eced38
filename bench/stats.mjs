// Small numeric helpers shared by the benchmark runner.

/** The median of finite numbers (undefined for none). */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs `fn` `runs` times in sequence and keeps every sample. A run that throws is recorded as
 * an error and the others go on: one bad run must not sink the whole report.
 */
export async function repeat(runs, fn) {
  const samples = [];
  const errors = [];
  for (let i = 0; i < runs; i++) {
    try {
      samples.push(await fn(i));
    } catch (error) {
      errors.push(String(error?.message ?? error));
    }
  }
  return { samples, errors };
}

/** For each numeric key of the samples, its median; non-numeric keys are kept from the first sample. */
export function medianOf(samples) {
  if (!samples.length) return undefined;
  const out = {};
  for (const key of Object.keys(samples[0])) {
    const values = samples.map((s) => s[key]);
    out[key] = typeof values[0] === 'number' ? median(values) : values[0];
  }
  out.runs = samples.length;
  // Every run's figures, for the spread (results.json only).
  out.samples = samples.map((sample) => Object.fromEntries(Object.entries(sample).filter(([, v]) => typeof v === 'number')));
  return out;
}

/** Rounds for display: 3 significant digits, no exponent. */
export function fmt(value, digits = 3) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  if (typeof value !== 'number') return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** A ratio like "0.82×" (measured / reference). */
export function ratio(measured, reference) {
  if (!(measured > 0) || !(reference > 0)) return '—';
  return `${fmt(measured / reference, 2)}×`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns truthy or `timeoutMs` passes (then resolves false). */
export async function until(check, timeoutMs, everyMs = 10) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
