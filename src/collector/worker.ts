/**
 * The collector as a whole Worker, configured from its environment alone: what `npm run
 * collector` runs in workerd and what docs/collector.md deploys.
 */
import { createCollector } from './create-collector.js';

export { CollectorPartition } from './collector-partition.js';

export default createCollector();
