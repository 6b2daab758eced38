// The browser default storage's lazy import target. A dynamic import keeps every export of its
// module (the script tag inlines it as a namespace object), so this one exports only what the
// default needs: createIndexedDbStorage stays out of dist/outbox.iife.js (23 B min+gzip).
export { openIndexedDbStorage } from './indexeddb.js';
