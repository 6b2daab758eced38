import type { DurableObjectNamespaceLike } from './durable-object-types.js';
import { partitionOrigin } from './partition-protocol.js';

/** The front's handle on the partitions: one JSON call to partition `index`. */
export function createPartitionClient(namespace: DurableObjectNamespaceLike) {
  const stubs = new Map<number, ReturnType<DurableObjectNamespaceLike['get']>>();
  const stub = (index: number) => {
    let found = stubs.get(index);
    if (!found) {
      found = namespace.get(namespace.idFromName(`partition-${index}`) as never);
      stubs.set(index, found);
    }
    return found;
  };
  return {
    /** Calls the partition; a non-2xx or a failed call rejects (the caller answers 503). */
    async call<T>(index: number, path: string, body?: unknown): Promise<T> {
      const init: RequestInit = body === undefined ? { method: 'GET' } : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
      const response = await stub(index).fetch(new Request(partitionOrigin + path, init));
      if (!response.ok) throw new Error(`partition ${index} answered ${response.status} to ${path.split('?')[0]}`);
      return (await response.json()) as T;
    },
  };
}

/** See {@link createPartitionClient}. */
export type PartitionClient = ReturnType<typeof createPartitionClient>;
