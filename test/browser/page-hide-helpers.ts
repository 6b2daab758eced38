// Shared by the page-hide and duplicate scenarios: an app page whose own hide handlers track
// (registered after the tracker's, as in an app), and engine-neutral init scripts (served into
// every page by the page server) that log the unload APIs used and can slow IndexedDB reads.
import type { PageServer } from './harness.js';

/** Options the app page passes to `Outbox.createTracker` (JSON: no functions). */
export interface AppOptions {
  endpoint: string;
  [key: string]: unknown;
}

const appHtml = `<!doctype html><meta charset="utf-8"><title>page-hide</title>
<script src="/dist/outbox.iife.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const options = JSON.parse(params.get('o'));
  const prefix = params.get('p');
  window.errors = [];
  window.tracker = Outbox.createTracker({ ...options, onError: (e) => errors.push(e.code + ': ' + e.message) });
  window.trackMany = (n, from = 0) => { for (let i = from; i < from + n; i++) tracker.track('e', { i }, { id: prefix + '-' + i }); };
  const log = (id) => sessionStorage.setItem('appTracked', JSON.stringify([...JSON.parse(sessionStorage.getItem('appTracked') || '[]'), id]));
  // Registered after the tracker's own listeners, so they run after them: the order of an app.
  if (params.get('handlers') !== 'off') document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'hidden') return;
    const id = prefix + '-visibilitychange';
    tracker.track('app.hidden', {}, { id });
    log(id);
  });
  if (params.get('handlers') !== 'off') addEventListener('pagehide', () => {
    const id = prefix + '-pagehide';
    tracker.track('app.pagehide', {}, { id });
    log(id);
  });
  // Chunks the outbox wrote, read with listeners (not onsuccess), so slowed reads do not slow it.
  window.storedChunks = () => new Promise((resolve) => {
    const open = indexedDB.open('outbox:' + (options.name || 'outbox'));
    open.addEventListener('success', () => {
      const db = open.result;
      const keys = db.transaction('kv').objectStore('kv').getAllKeys();
      keys.addEventListener('success', () => (db.close(), resolve(keys.result.filter((k) => String(k).startsWith('c:')).length)));
    });
  });
</script><body>page-hide</body>`;

/**
 * The app page's URL: tracker `options`, event ids `prefix-<i>`, test knobs for the init scripts,
 * and `handlers: false` to leave out the app's own hide handlers (their ids repeat on every load).
 */
export function hideAppUrl(server: PageServer, prefix: string, options: AppOptions, knobs: { idbReadDelayMs?: number; handlers?: false } = {}): string {
  const query = new URLSearchParams({ o: JSON.stringify(options), p: prefix });
  if (knobs.handlers === false) query.set('handlers', 'off');
  if (knobs.idbReadDelayMs) query.set('idbReadDelayMs', String(knobs.idbReadDelayMs));
  return `${server.page('/t/page-hide.html', appHtml)}?${query}`;
}

/**
 * Init script: logs each unload request's API into sessionStorage `unloadApis` (it survives the
 * navigation): `fetchLater` sent at once, a keepalive `fetch`, `sendBeacon`.
 */
export const logUnloadApis = `(() => {
  const log = (api) => sessionStorage.setItem('unloadApis', JSON.stringify([...JSON.parse(sessionStorage.getItem('unloadApis') || '[]'), api]));
  const fetch = window.fetch, beacon = navigator.sendBeacon, fetchLater = window.fetchLater;
  window.fetch = function (input, init) { if (init && init.keepalive) log('keepalive'); return fetch.apply(this, arguments); };
  if (beacon) Navigator.prototype.sendBeacon = function (url, body) { log('beacon'); return beacon.call(this, url, body); };
  if (fetchLater) window.fetchLater = function (url, init) { if (init && init.activateAfter === 0) log('fetchLater'); return fetchLater.call(this, url, init); };
})();`;

/**
 * Init script: with \`?idbReadDelayMs=N\` in the page URL, every \`get\` / \`getAllKeys\` of an
 * \`outbox:\` database answers N ms late (the onsuccess handler idb-keyval sets is called later;
 * listeners added with addEventListener are not delayed). \`window.chunkReads\` counts the chunk reads begun.
 */
export const slowIndexedDbReads = `(() => {
  const ms = Number(new URLSearchParams(location.search).get('idbReadDelayMs') || 0);
  if (!ms || !window.IDBObjectStore) return;
  for (const name of ['get', 'getAllKeys']) {
    const original = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function () {
      const request = original.apply(this, arguments);
      if (String(this.transaction.db.name).startsWith('outbox:')) {
        if (name === 'get' && String(arguments[0]).startsWith('c:')) window.chunkReads = (window.chunkReads || 0) + 1;
        Object.defineProperty(request, 'onsuccess', {
          configurable: true,
          get: () => null,
          set: (handler) => request.addEventListener('success', (event) => setTimeout(() => handler.call(request, event), ms)),
        });
      }
      return request;
    };
  }
})();`;
