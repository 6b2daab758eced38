import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run','--disable-background-networking', '--disable-component-update', '--disable-sync'];
const log = [];
const col = createServer((req, res) => {
  let n = 0; req.on('data', (c) => n += c.length); req.on('end', () => {
    log.push(`${Date.now() % 100000} ${req.method} ${req.url} ${n}`);
    setTimeout(() => { res.writeHead(204, { 'access-control-allow-origin': '*' }); res.end(); }, Number(new URL(req.url, 'http://x').searchParams.get('delay') || 0));
  });
});
await new Promise((r) => col.listen(0, '127.0.0.1', r));
const pages = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><body>x</body>'); });
await new Promise((r) => pages.listen(0, '127.0.0.1', r));
const purl = `http://localhost:${pages.address().port}/`;
const ep = `http://127.0.0.1:${col.address().port}/v1/batch`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const page = await browser.newPage();
await page.goto(purl);
console.log(await page.evaluate(async (ep) => {
  const o = {};
  const body = (n) => new Uint8Array(n * 1024).map(() => Math.random() * 256);
  let ac = new AbortController();
  fetchLater(ep + '?t=a', { method: 'POST', body: body(40), signal: ac.signal });
  ac.abort();
  try { fetchLater(ep + '?t=b', { method: 'POST', body: body(40) }); o.afterAbort = 'ok'; } catch (e) { o.afterAbort = e.name; }
  // activate now with slow server, then register again
  const r = fetchLater(ep + '?t=c&delay=1000', { method: 'POST', body: body(20), activateAfter: 0 });
  await new Promise(r => setTimeout(r, 100));
  o.cAct = r.activated;
  try { fetchLater(ep + '?t=d', { method: 'POST', body: body(20) }); o.afterActivated = 'ok'; } catch (e) { o.afterActivated = e.message; }
  // beacon quota with slow server
  o.b1 = navigator.sendBeacon(ep + '?t=b1&delay=2000', body(40));
  o.b2 = navigator.sendBeacon(ep + '?t=b2&delay=2000', body(20));
  try { await fetch(ep + '?t=k1', { method: 'POST', body: body(20), keepalive: true }); o.k1 = 'ok' } catch (e) { o.k1 = e.message; }
  return o;
}, ep));
await new Promise((r) => setTimeout(r, 3000));
console.log(log.splice(0));
console.log(await page.evaluate(async (ep) => {
  const body = (n) => new Uint8Array(n * 1024).map(() => Math.random() * 256);
  return { b3: navigator.sendBeacon(ep + '?t=b3', body(60)), hasOnline: navigator.onLine };
}, ep));
await page.close();
await new Promise((r) => setTimeout(r, 500));
console.log(log.splice(0));
await browser.close(); col.close(); pages.close();
