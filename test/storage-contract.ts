// The contract every StorageAdapter passes: run it from each adapter's test file with a factory
// that returns a fresh, empty store. Works under vitest in Node, happy-dom and workerd.
import { describe, expect, it } from 'vitest';
import type { StorageAdapter } from '../src/storage/storage.js';

export function runStorageContract(name: string, create: () => StorageAdapter | Promise<StorageAdapter>): void {
  describe(`StorageAdapter contract: ${name}`, () => {
    it('returns undefined for a missing key', async () => {
      const storage = await create();
      expect(await storage.get('missing')).toBeUndefined();
    });

    it('stores, overwrites and deletes values', async () => {
      const storage = await create();
      await storage.set('c:1', 'one');
      expect(await storage.get('c:1')).toBe('one');
      await storage.set('c:1', 'uno');
      expect(await storage.get('c:1')).toBe('uno');
      await storage.delete('c:1');
      expect(await storage.get('c:1')).toBeUndefined();
      await storage.delete('never-there'); // deleting a missing key is not an error
    });

    it('lists keys by prefix only', async () => {
      const storage = await create();
      await Promise.all([storage.set('c:a', '1'), storage.set('c:b', '2'), storage.set('l:x', '3'), storage.set('rules', '[]')]);
      expect((await storage.keys('c:')).sort()).toEqual(['c:a', 'c:b']);
      expect(await storage.keys('l:')).toEqual(['l:x']);
      expect(await storage.keys('zz')).toEqual([]);
    });

    it('keeps values byte-exact: unicode, JSON and large values', async () => {
      const storage = await create();
      const value = JSON.stringify({ text: 'héllo 🌍 \u0000 "quoted" \n', list: Array.from({ length: 2000 }, (_, i) => i) });
      await storage.set('c:big', value);
      expect(await storage.get('c:big')).toBe(value);
    });

    it('applies batched writes and deletes together when it offers apply()', async () => {
      const storage = await create();
      if (!storage.apply) return expect(storage.apply).toBeUndefined();
      await storage.set('c:old', 'x');
      await storage.apply([['c:new1', 'a'], ['c:new2', 'b']], ['c:old']);
      expect((await storage.keys('c:')).sort()).toEqual(['c:new1', 'c:new2']);
      expect(await storage.get('c:new2')).toBe('b');
    });

    it('handles many concurrent writes without losing any', async () => {
      const storage = await create();
      await Promise.all(Array.from({ length: 50 }, (_, i) => storage.set(`c:${String(i).padStart(3, '0')}`, String(i))));
      const keys = await storage.keys('c:');
      expect(keys.length).toBe(50);
      expect(await storage.get('c:049')).toBe('49');
    });
  });
}
