// The outbox snippet, readable. docs/script-tag.md has the minified one-liner that goes in pages
// (test/browser/snippet.test.ts runs that exact text). Put it before the bundle's script tag:
//
//   <script>…snippet…</script>
//   <script async src="https://cdn.example.com/outbox.iife.js" data-endpoint="https://…/v1/batch"></script>
//
// 1. `outbox.track(name, properties, options)` works at once: each call is queued as
//    [method, args, Date.now(), id], so the bundle replays it with its original timestamp and id.
// 2. If the visitor leaves before the bundle arrives, a tiny pagehide / hidden handler sends the
//    queued track calls in one keepalive fetch (a beacon where keepalive is missing), in wire
//    format v1 with those same ids: when the bundle loads later after all (a tab that was only
//    hidden), its replay is de-duplicated by id.
// 3. Once the bundle has loaded, `window.outbox` is the tracker and this handler does nothing.
(function (w, d, o) {
  // An element with id="outbox" is window.outbox too (the DOM's named access): only something
  // with push (another copy of this stub, or the tracker) counts; anything else is shadowed.
  ((o = w.outbox) && o.push) || (o = w.outbox = []);
  if (o.track) return; // the bundle (or the snippet) is already here
  o.b = 0; // calls before this index went out at unload (once: the bundle replays them anyway)
  o.track = function (n, p, x, t) {
    o.push(['track', [n, p, x], (t = Date.now()), t.toString(36) + Math.random().toString(36).slice(2)]);
  };
  function f(e) {
    var s = d.querySelector('script[data-endpoint]'), a = [], i = o.b, c, x, u, b;
    if (w.outbox != o || !s || (e.type[0] == 'v' && d.visibilityState != 'hidden')) return;
    // Events of a named stream are left to the bundle (a request carries one stream, named in
    // its URL); it replays them with the same ids.
    for (; i < o.length; i++)
      if ((c = o[i])[0] == 'track' && (c[1] || 0).map && !(x = c[1][2] || {}).stream)
        a.push({ id: x.id || c[3], name: c[1][0], timestamp: x.timestamp || c[2], sourceId: x.sourceId || s.dataset.sourceId, properties: c[1][1] });
    if (!a[0]) return;
    o.b = i;
    u = s.dataset.endpoint;
    u += (u.indexOf('?') < 0 ? '?' : '&') + 'rid=' + a[0].id;
    b = JSON.stringify({ sentAt: Date.now(), events: a });
    // A string body goes as text/plain: no CORS preflight. A keepalive fetch, since blockers
    // drop cross-site beacons (EasyPrivacy $ping,third-party), not fetches; a beacon only where
    // keepalive is missing (Firefox before 133). Both share the page's 64 KiB keepalive quota.
    'keepalive' in Request.prototype ? fetch(u, { method: 'POST', body: b, keepalive: !0 }).catch(String) : navigator.sendBeacon(u, b);
  }
  w.addEventListener('pagehide', f);
  d.addEventListener('visibilitychange', f);
  // WebKit leaves a document that has not finished loading with beforeunload alone (no pagehide,
  // no visibilitychange). Only until load: later, pagehide covers it and the page keeps its
  // back/forward cache eligibility.
  w.addEventListener('beforeunload', f);
  w.addEventListener('load', function () {
    w.removeEventListener('beforeunload', f);
  });
})(window, document);
