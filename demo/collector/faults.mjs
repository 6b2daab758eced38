/**
 * Fault injection, so tests and the live demo can show the tracker surviving a bad network.
 *
 * @typedef {object} Faults
 * @property {number} [failRate] 0..1, chance that an ingest request fails with `failStatus`
 * @property {number} [failStatus] status of those failures (default 503)
 * @property {number} [retryAfterSec] sent as `Retry-After` on injected failures and 429s
 * @property {number} [latencyMs] delay before every ingest reply
 * @property {number} [refuseForMs] for this long from when set, connections are dropped unanswered
 * @property {number} [status413AboveBytes] answer 413 when the raw body is bigger than this
 * @property {number} [rejectStatus] answer this status to every ingest request
 *
 * @typedef {{ status: number, code: string, message: string, retryAfterSec?: number }} FaultReply
 */

const DEFAULT_FAIL_STATUS = 503;

/** @type {Record<keyof Faults, (value: number) => boolean>} */
const CHECKS = {
  failRate: (v) => v >= 0 && v <= 1,
  failStatus: isErrorStatus,
  retryAfterSec: (v) => Number.isInteger(v) && v >= 0,
  latencyMs: (v) => v >= 0,
  refuseForMs: (v) => v >= 0,
  status413AboveBytes: (v) => Number.isInteger(v) && v >= 0,
  rejectStatus: isErrorStatus,
};

/** @param {number} v */
function isErrorStatus(v) {
  return Number.isInteger(v) && v >= 400 && v <= 599;
}

/**
 * Validates a faults object; unknown keys are refused so a typo (`failrate`) cannot pass as
 * "no faults". Throws a TypeError naming the bad field.
 * @param {unknown} input
 * @returns {Readonly<Faults>}
 */
export function normalizeFaults(input) {
  if (input === undefined || input === null) return Object.freeze({});
  if (typeof input !== 'object' || Array.isArray(input)) throw new TypeError('[collector] faults must be an object');
  /** @type {Record<string, number>} */
  const faults = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    const check = CHECKS[/** @type {keyof Faults} */ (key)];
    if (!check) throw new TypeError(`[collector] unknown fault "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
      throw new TypeError(`[collector] fault ${key} has an invalid value: ${JSON.stringify(value)}`);
    }
    faults[key] = value;
  }
  return Object.freeze(faults);
}

/**
 * Decides whether this ingest request fails, and how. Pure: `random` is injected.
 * @param {Readonly<Faults>} faults
 * @param {number} rawBytes size of the request body as received
 * @param {() => number} random uniform in [0, 1)
 * @returns {FaultReply | undefined}
 */
export function decideFault(faults, rawBytes, random) {
  if (faults.status413AboveBytes !== undefined && rawBytes > faults.status413AboveBytes) {
    return {
      status: 413,
      code: 'too_large',
      message: `body of ${rawBytes} bytes is over the injected limit of ${faults.status413AboveBytes}`,
    };
  }
  if (faults.rejectStatus !== undefined) {
    return withRetryAfter(faults, faults.rejectStatus, 'every request is rejected (rejectStatus fault)', false);
  }
  if (faults.failRate !== undefined && faults.failRate > 0 && random() < faults.failRate) {
    const status = faults.failStatus ?? DEFAULT_FAIL_STATUS;
    return withRetryAfter(faults, status, `injected failure (failRate ${faults.failRate})`, true);
  }
  return undefined;
}

/**
 * A rejectStatus of 400 is meant as "permanently refused", so it only carries Retry-After when
 * it is a status a client would retry anyway (429, 5xx).
 * @param {Readonly<Faults>} faults
 * @param {number} status
 * @param {string} message
 * @param {boolean} isFailure
 * @returns {FaultReply}
 */
function withRetryAfter(faults, status, message, isFailure) {
  const retryable = isFailure || status === 429 || status >= 500;
  return faults.retryAfterSec !== undefined && retryable
    ? { status, code: 'fault', message, retryAfterSec: faults.retryAfterSec }
    : { status, code: 'fault', message };
}
