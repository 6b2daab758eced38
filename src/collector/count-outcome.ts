/** A Workers Analytics Engine dataset binding, declared structurally. */
export interface AnalyticsDatasetLike {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

/**
 * What one request came to: `code` is `'ok'`, `'test'` or the error code of the reply; `route`
 * is `'ingest'`, `'receipt'`, `'feed'` or `'other'` (only refusals are counted off ingest).
 */
export interface IngestOutcome {
  route: string;
  status: number;
  code: string;
  accepted: number;
  duplicates: number;
  ruled: number;
  bytesIn: number;
}

/**
 * The Analytics Engine data point of an outcome: indexed by code, so a query sums requests,
 * events and bytes by reason (`SUM(_sample_interval * double1) ... GROUP BY blob1`).
 */
export function outcomeDataPoint(outcome: IngestOutcome): { indexes: string[]; blobs: string[]; doubles: number[] } {
  return {
    indexes: [outcome.code],
    blobs: [outcome.code, String(outcome.status), outcome.route],
    doubles: [1, outcome.accepted, outcome.duplicates, outcome.ruled, outcome.bytesIn],
  };
}

/**
 * A counter writing each outcome to `dataset`, or doing nothing without one. Counting never fails
 * a request: a dataset that throws is ignored.
 */
export function createOutcomeCounter(dataset: AnalyticsDatasetLike | undefined): (outcome: IngestOutcome) => void {
  if (!dataset || typeof dataset.writeDataPoint !== 'function') return () => undefined;
  return (outcome) => {
    try {
      dataset.writeDataPoint(outcomeDataPoint(outcome));
    } catch (error) {
      console.error('[outbox] collector: analytics write failed:', error);
    }
  };
}
