// Which leases hold a chunk back from a read (issue 9, sim seed -934525758). Another writer's
// unexpired lease does: those events are being sent elsewhere. This outbox's own lease does not:
// the host reused the id of an event this tab has in flight, and the rest of the other tab's
// chunk waited out the lease (2 x timeoutMs) instead of going at once.
import { describe, expect, it } from 'vitest';
import { serializeEvent } from '../../src/event.js';
import { createOutbox, type Outbox, type StoredEvent } from '../../src/outbox.js';
import { createMemoryStorage } from '../../src/storage/memory.js';

const time = 1_700_000_000_000;

function event(id: string, seq: number): StoredEvent {
  const [json, bytes] = serializeEvent(id, 'page_view', time, 's', '', undefined, 65_536);
  return { id, name: 'page_view', sourceId: 's', stream: '', json, bytes, seq };
}

const open = (map: Map<string, string>, writerId: string): Outbox =>
  createOutbox(createMemoryStorage(map), { writerId, now: () => time, onError: () => undefined, onCorrupt: () => undefined });

const settle = async (box: Outbox) => {
  for (let i = 0; i < 3; i++) await box.idle();
};

type Lease = 'mine' | 'mine, released' | 'another tab' | 'an earlier page' | 'mine and another tab';

describe("a read skips chunks under another's lease, not under this outbox's own", () => {
  // [who leases e0, ids the read returns, nextLeaseExpiry]
  const cases: [Lease, string[], number | undefined][] = [
    ['mine', ['e0', 'e1'], time + 20_000],
    ['mine, released', ['e0', 'e1'], undefined],
    ['another tab', [], time + 20_000],
    ['an earlier page', [], time + 20_000],
    ['mine and another tab', [], time + 20_000],
  ];
  it.each(cases)('e0 leased by %s: the read returns %j', async (who, ids, expiry) => {
    const map = new Map<string, string>();
    // Another tab's chunk holds e0 (an id this tab also uses) and e1.
    const other = open(map, 'other');
    other.append(event('e0', 0));
    other.append(event('e1', 1));
    await settle(other);
    const box = open(map, 'mine');
    if (who.startsWith('mine')) box.lease('r-mine', [{ id: 'e0', stream: '' }], time + 20_000);
    if (who === 'mine, released') box.release('r-mine');
    if (who === 'another tab' || who === 'mine and another tab') other.lease('r-other', [{ id: 'e0', stream: '' }], time + 20_000);
    if (who === 'an earlier page') open(map, 'earlier').lease('r-earlier', [{ id: 'e0', stream: '' }], time + 20_000);
    await settle(box);
    await settle(other);
    const result = await box.load();
    expect(result[0].map((e) => e.id)).toEqual(ids);
    expect(result[1]).toBe(expiry);
  });

  it('the chunk read under its own lease is deleted once both of its events are removed', async () => {
    const map = new Map<string, string>();
    const other = open(map, 'other');
    other.append(event('e0', 0));
    other.append(event('e1', 1));
    await settle(other);
    const box = open(map, 'mine');
    box.lease('r-mine', [{ id: 'e0', stream: '' }], time + 20_000);
    await settle(box);
    const [events] = await box.load();
    box.remove(events);
    box.release('r-mine');
    await settle(box);
    expect([...map.keys()]).toEqual([]);
  });
});
