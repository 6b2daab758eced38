import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createFlushWaiters } from '../../src/flush-waiters.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const queued = (...seqs: number[]) => seqs.map((seq) => ({ seq }));

/** The promise's value if it has settled, else 'pending'. */
async function state(promise: Promise<boolean>): Promise<boolean | 'pending'> {
  return Promise.race([promise, Promise.resolve('pending' as const)]);
}

it('resolves a flush once nothing queued before it is left, whatever came after', async () => {
  const waiters = createFlushWaiters();
  const flush = waiters.wait(3, 1000); // events 0, 1, 2 were queued before it
  waiters.settle(queued(1, 2, 3, 4));
  expect(await state(flush)).toBe('pending');
  waiters.settle(queued(2, 5));
  expect(await state(flush)).toBe('pending');
  waiters.settle(queued(3, 4, 5)); // only later events remain
  expect(await state(flush)).toBe(true);
});

it('counts events loaded from storage (numbered below zero) as queued before every flush', async () => {
  const waiters = createFlushWaiters();
  const flush = waiters.wait(0, 1000);
  waiters.settle(queued(-2, -1));
  expect(await state(flush)).toBe('pending');
  waiters.settle([]);
  expect(await state(flush)).toBe(true);
});

it('resolves each of several flushes on its own', async () => {
  const waiters = createFlushWaiters();
  const early = waiters.wait(2, 1000);
  const late = waiters.wait(10, 1000);
  waiters.settle(queued(5, 9));
  expect([await state(early), await state(late)]).toEqual([true, 'pending']);
  waiters.settle(queued(10));
  expect(await state(late)).toBe(true);
});

it('resolves false at the timeout, and a later settle does not resolve it again', async () => {
  const waiters = createFlushWaiters();
  const flush = waiters.wait(1, 500);
  vi.advanceTimersByTime(499);
  expect(await state(flush)).toBe('pending');
  vi.advanceTimersByTime(1);
  expect(await state(flush)).toBe(false);
  waiters.settle([]);
  expect(await flush).toBe(false);
  expect(vi.getTimerCount()).toBe(0);
});

it('clears its timer when it resolves in time', async () => {
  const waiters = createFlushWaiters();
  const flush = waiters.wait(1, 500);
  waiters.settle([]);
  expect(await flush).toBe(true);
  expect(vi.getTimerCount()).toBe(0);
});
