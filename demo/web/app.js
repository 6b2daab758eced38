// The demo page: loads the tracker with a script tag, shows the collector's live stats (server-sent
// events from GET /live) beside this tab's outbox.stats(), and offers buttons that break things.
// Plain browser JavaScript, no build step.

const collectorUrl = new URL(location.href).searchParams.get('collector') || 'http://127.0.0.1:8787';
const $ = (id) => document.getElementById(id);
const format = (n) => Number(n).toLocaleString('en');

// ---- The tracker ------------------------------------------------------------------------------
// Options that are functions cannot be data-* attributes: they go in an init call, queued like
// any other call before the bundle arrives.
outbox.push(['init', { onError: (error) => note(error.message.replace(/^\[outbox\] /, ''), error.code) }]);
outbox.track('demo.page_view', { path: location.pathname, navigation: performance.getEntriesByType('navigation')[0]?.type });

const tag = document.createElement('script');
tag.async = true;
tag.src = '../../dist/outbox.iife.js';
tag.dataset.endpoint = `${collectorUrl}/v1/batch`;
tag.dataset.sourceId = `tab-${Math.random().toString(36).slice(2, 7)}`;
tag.dataset.flushIntervalMs = '1000';
tag.onerror = () => setPill('bundle-status', 'bundle missing: run npm run build', 'bad');
document.head.append(tag);

// ---- Going offline, as far as this tab can tell -----------------------------------------------
// Requests to the collector's ingest fail like a dead network, and navigator.onLine says false,
// so the unload path keeps events rather than beacon them into the void. Going back online fires
// the `online` event, which makes the tracker retry at once.
const realFetch = window.fetch.bind(window);
let offline = false;
window.fetch = (input, init) =>
  offline && String(input?.url ?? input).startsWith(`${collectorUrl}/v1/`)
    ? Promise.reject(new TypeError('Failed to fetch (the demo is offline)'))
    : realFetch(input, init);
Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => !offline });

// ---- Live collector stats ---------------------------------------------------------------------
const history = [];
const live = new EventSource(`${collectorUrl}/live`);
live.onopen = () => setPill('live-status', 'collector live', 'good');
live.onerror = () => setPill('live-status', 'collector unreachable, retrying…', 'bad');
live.addEventListener('stats', (message) => {
  const stats = JSON.parse(message.data);
  setPill('live-status', 'collector live', 'good');
  $('rate').textContent = format(stats.eventsPerSecond);
  $('accepted').textContent = format(stats.accepted);
  $('duplicates').textContent = format(stats.duplicates);
  $('requests').textContent = format(stats.requests);
  $('rejected').textContent = Object.entries(stats.rejected).map(([status, n]) => `${status} × ${format(n)}`).join(', ') || 'none';
  $('refused').textContent = format(stats.refusedConnections);
  $('preflights').textContent = format(stats.preflights);
  $('bytes').textContent = `${format(stats.bytesIn)} (inflated ${format(stats.bytesInflated)})`;
  history.push(stats.eventsPerSecond);
  if (history.length > 240) history.shift(); // 60 s at one message every 250 ms
  drawChart();
});

function drawChart() {
  const canvas = $('chart');
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(10, ...history);
  const bar = width / 240;
  ctx.fillStyle = '#2f6fde';
  history.forEach((value, i) => {
    const h = (value / max) * (height - 4);
    ctx.fillRect(width - (history.length - i) * bar, height - h, Math.max(1, bar - 0.5), h);
  });
  ctx.fillStyle = '#667085';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(`${format(max)}/s`, 4, 12);
}

// ---- This tab's outbox ------------------------------------------------------------------------
function renderOutbox() {
  if (typeof outbox.stats !== 'function') return; // still the snippet's queue
  setPill('bundle-status', 'tracker running', 'good');
  const stats = outbox.stats();
  $('queued').textContent = format(stats.queued);
  $('in-flight').textContent = format(stats.inFlight);
  $('tracked').textContent = format(stats.tracked);
  $('sent').textContent = format(stats.sent);
  $('retried').textContent = format(stats.retried);
  $('unload-sent').textContent = format(stats.unloadSent);
  $('failed').textContent = format(stats.failedRequests);
  $('drops').innerHTML = Object.entries(stats.dropped)
    .map(([reason, n]) => `<dt>${reason}</dt><dd class="${n ? 'bad' : ''}">${format(n)}</dd>`)
    .join('');
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  const verdict = $('verdict');
  if (stats.queued === 0) {
    verdict.textContent = dropped ? `All delivered, except ${format(dropped)} dropped for a counted reason.` : 'Everything tracked here was delivered.';
    verdict.className = 'verdict good';
  } else {
    verdict.textContent = `${format(stats.queued)} waiting: kept until the collector acknowledges them.`;
    verdict.className = 'verdict';
  }
}
setInterval(renderOutbox, 250);

// ---- Controls ---------------------------------------------------------------------------------
let burstNo = 0;
for (const button of document.querySelectorAll('[data-burst]')) {
  button.addEventListener('click', () => {
    const count = Number(button.dataset.burst);
    const burst = ++burstNo;
    for (let i = 0; i < count; i++) outbox.track('demo.burst', { burst, i });
    note(`tracked a burst of ${format(count)} events`);
  });
}

let trickle;
$('trickle').addEventListener('click', (event) => {
  const on = !trickle;
  event.currentTarget.setAttribute('aria-pressed', String(on));
  if (on) trickle = setInterval(() => outbox.track('demo.trickle', { at: new Date().toISOString() }), 100);
  else trickle = clearInterval(trickle);
  note(on ? 'trickle on: 10 events a second' : 'trickle off');
});

for (const button of document.querySelectorAll('[data-fault]')) {
  button.addEventListener('click', () => setFaults(JSON.parse(button.dataset.fault), button.dataset.label));
}

// The collector serves no test controls to pages: the demo's page server applies them, on this
// page's own origin, for requests with the header no other site's page can send (demo/run.mjs).
async function admin(path, body) {
  const response = await realFetch(`/demo/controls${path}`, {
    method: 'POST',
    headers: { 'x-outbox-test-control': '1' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

let faultsUntil = 0;
async function setFaults(faults, label) {
  try {
    await admin('/faults', faults);
    faultsUntil = faults.refuseForMs ? Date.now() + faults.refuseForMs : 0;
    $('faults').textContent = label;
    note(Object.keys(faults).length ? `collector: ${label}` : 'collector healed: no faults');
  } catch {
    note('the collector is not answering (refusing connections?): try again in a moment', 'retry');
  }
}
setInterval(() => {
  if (faultsUntil && Date.now() > faultsUntil) {
    faultsUntil = 0;
    $('faults').textContent = 'none';
    note('collector: back up');
  }
}, 500);

$('offline').addEventListener('click', (event) => {
  offline = !offline;
  event.currentTarget.setAttribute('aria-pressed', String(offline));
  event.currentTarget.textContent = offline ? 'Back online' : 'Go offline';
  window.dispatchEvent(new Event(offline ? 'offline' : 'online'));
  note(offline ? 'this tab is offline: requests fail, events wait' : 'back online: the tracker retries at once');
});
$('reload').addEventListener('click', () => location.reload());
$('new-tab').addEventListener('click', () => window.open(location.href, '_blank'));
$('reset').addEventListener('click', async () => {
  try {
    await admin('/reset');
    history.length = 0;
    $('faults').textContent = 'none';
    note('collector reset: events, counters and faults cleared');
  } catch {
    note('the collector is not answering', 'retry');
  }
});

// ---- Helpers ----------------------------------------------------------------------------------
function setPill(id, text, kind) {
  const pill = $(id);
  pill.textContent = text;
  pill.className = `pill ${kind}`;
}

// The log keeps the last dozen lines; a line repeated in a row is counted, not repeated.
function note(text, kind = 'info') {
  const log = $('log');
  const last = log.firstElementChild;
  if (last?.dataset.text === text) {
    last.dataset.count = String(Number(last.dataset.count) + 1);
    last.querySelector('.count').textContent = `× ${last.dataset.count}`;
    return;
  }
  const item = document.createElement('li');
  item.className = kind;
  item.dataset.text = text;
  item.dataset.count = '1';
  item.innerHTML = `<time>${new Date().toLocaleTimeString()}</time> <span></span> <span class="count"></span>`;
  item.children[1].textContent = text;
  log.prepend(item);
  while (log.children.length > 12) log.lastElementChild.remove();
}

$('collector-url').textContent = collectorUrl;
note('page loaded: the snippet queued a page_view before the bundle arrived');
