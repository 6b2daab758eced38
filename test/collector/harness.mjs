import { gzipSync } from 'node:zlib';
import { onTestFinished } from 'vitest';
import { startCollector } from '../../demo/collector/collector.mjs';

/**
 * Starts a collector that is closed when the current test finishes, pass or fail.
 * @param {import('../../demo/collector/collector.mjs').CollectorOptions} [options]
 */
export async function start(options = {}) {
  const collector = await startCollector({ quiet: true, ...options });
  onTestFinished(() => collector.close());
  return collector;
}

let sequence = 0;

/**
 * A valid wire event; `overrides` may also add or replace fields.
 * @param {Record<string, unknown>} [overrides]
 */
export function event(overrides = {}) {
  sequence++;
  return { id: `evt-${sequence}`, name: 'click', timestamp: 1_732_000_000_000 + sequence, ...overrides };
}

/** @param {unknown[]} events */
export function batchBody(events) {
  return JSON.stringify({ sentAt: Date.now(), events });
}

/** @param {string | Uint8Array} body */
export function gzip(body) {
  return gzipSync(typeof body === 'string' ? Buffer.from(body) : body);
}

/**
 * POSTs to the collector's endpoint and reads the JSON reply.
 * @param {{ endpoint: string }} collector
 * @param {BodyInit} body
 * @param {{ query?: Record<string, string>, headers?: Record<string, string> }} [init]
 */
export async function post(collector, body, { query = {}, headers = {} } = {}) {
  const url = new URL(collector.endpoint);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

/**
 * @param {{ url: string }} collector
 * @param {string} path
 * @param {RequestInit} [init]
 */
export async function call(collector, path, init) {
  const response = await fetch(collector.url + path, init);
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: type.includes('json') && !type.includes('ndjson') && text ? JSON.parse(text) : undefined,
  };
}

/**
 * Calls a test-control route (`/events`, `/faults`, `/rules`, `/reset`) the way a test runner
 * does: with the header that no web page can send cross-origin.
 * @param {{ url: string }} collector
 * @param {string} path
 * @param {RequestInit & { headers?: Record<string, string> }} [init]
 */
export function control(collector, path, init = {}) {
  return call(collector, path, { ...init, headers: { 'x-outbox-test-control': '1', ...init.headers } });
}
