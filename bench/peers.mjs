// Peer SDKs, installed on demand into .tmp/peers/<name>/ (git-ignored, never a project
// dependency), each in its own folder so one that fails to install does not take the others
// down. Each is bundled with esbuild into an IIFE for Chromium, the same way for all of them.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';

const run = promisify(execFile);

/**
 * Pinned versions, so reruns compare like with like. Amplitude is held at 2.47.0: 2.48.x depends
 * on @amplitude/plugin-custom-enrichment-browser@0.1.27+, which the registry here does not have.
 * `published` is the peer's own minified script-tag bundle, when its npm package ships one.
 * `adapter` runs in the page: it defines `window.benchSdk = { init(endpoint), track() }` over
 * `window.Peer` (what the entry exposed), with the configuration stated in `config`.
 */
export const peers = [
  {
    id: 'segment',
    label: 'Segment analytics-next',
    pkg: '@segment/analytics-next',
    version: '1.84.3',
    entry: `import { AnalyticsBrowser } from '@segment/analytics-next'; window.Peer = { AnalyticsBrowser };`,
    published: { file: 'dist/umd/index.js', note: 'dist/umd/index.js, the CDN bundle (lazy chunks not counted)' },
    call: 'analytics.track(name, props)',
    config:
      'AnalyticsBrowser.load with inline cdnSettings (no settings fetch), Segment.io destination on the local sink; defaults otherwise: standard delivery (one POST per event), persisted retry queue',
    adapter: `window.benchSdk = {
      async init(endpoint) {
        const host = endpoint.replace(/^http:\\/\\//, '') + '/v1';
        const [analytics] = await Peer.AnalyticsBrowser.load({
          writeKey: 'bench',
          cdnSettings: { integrations: { 'Segment.io': { apiKey: 'bench', apiHost: host, protocol: 'http' } } },
        });
        this.analytics = analytics;
      },
      track(name) { this.analytics.track(name, { id: 7 }); },
    };`,
  },
  {
    id: 'posthog',
    label: 'PostHog posthog-js',
    pkg: 'posthog-js',
    version: '1.449.2',
    entry: `import posthog from 'posthog-js'; window.Peer = { posthog };`,
    published: { file: 'dist/array.js', note: 'dist/array.js, the script-tag bundle (extensions load later)' },
    call: 'posthog.capture(name, props)',
    config:
      'api_host on the local sink; autocapture, pageview/pageleave, session recording, surveys, heatmaps, dead clicks, web vitals, exception capture, flags and external script loading off (they need the network or are not event tracking); opt_out_useragent_filter (it drops every event under automation, navigator.webdriver) and rate_limiting raised (by default it drops events past a burst of 100, at 10/s); defaults otherwise: request batching (3 s), localStorage+cookie persistence',
    adapter: `window.benchSdk = {
      async init(endpoint) {
        Peer.posthog.init('phc_bench', {
          api_host: endpoint, autocapture: false, capture_pageview: false, capture_pageleave: false,
          disable_session_recording: true, disable_surveys: true, capture_heatmaps: false,
          capture_dead_clicks: false, capture_performance: false, capture_exceptions: false,
          advanced_disable_flags: true, disable_external_dependency_loading: true,
          opt_out_useragent_filter: true, rate_limiting: { events_per_second: 1e6, events_burst_limit: 1e6 },
        });
        this.posthog = Peer.posthog;
      },
      track(name) { this.posthog.capture(name, { id: 7 }); },
    };`,
  },
  {
    id: 'amplitude',
    label: 'Amplitude analytics-browser',
    pkg: '@amplitude/analytics-browser',
    version: '2.47.0',
    entry: `import * as amplitude from '@amplitude/analytics-browser'; window.Peer = { amplitude };`,
    published: { file: 'lib/scripts/amplitude-min.js', note: 'lib/scripts/amplitude-min.js, the script-tag bundle' },
    call: 'amplitude.track(name, props)',
    config:
      'serverUrl on the local sink; autocapture, remote config and diagnostics off (they need the network); defaults otherwise: flushQueueSize 30, flushIntervalMillis 1000, fetch transport, localStorage event persistence',
    adapter: `window.benchSdk = {
      async init(endpoint) {
        await Peer.amplitude.init('bench_key', undefined, {
          serverUrl: endpoint + '/2/httpapi', autocapture: false, fetchRemoteConfig: false,
          remoteConfig: { fetchRemoteConfig: false }, enableDiagnostics: false,
        }).promise;
        this.amplitude = Peer.amplitude;
      },
      track(name) { this.amplitude.track(name, { id: 7 }); },
    };`,
  },
  {
    id: 'snowplow',
    label: 'Snowplow browser-tracker',
    pkg: '@snowplow/browser-tracker',
    version: '4.10.1',
    entry: `import { newTracker, trackStructEvent } from '@snowplow/browser-tracker'; window.Peer = { newTracker, trackStructEvent };`,
    published: { file: 'dist/index.umd.min.js', note: 'dist/index.umd.min.js (the sp.js script tag package is not in the registry here)' },
    call: 'trackStructEvent({ category, action: name, property, value })',
    config:
      'newTracker on the local sink; defaults otherwise: POST, bufferSize 1, localStorage out-queue (max 1000), webPage context',
    adapter: `window.benchSdk = {
      async init(endpoint) {
        Peer.newTracker('sp', endpoint, { appId: 'bench' });
      },
      track(name) { Peer.trackStructEvent({ category: 'bench', action: name, property: 'id', value: 7 }); },
    };`,
  },
];

/** Where a peer is installed. */
export function peerDir(root, peer) {
  return join(root, '.tmp', 'peers', peer.pkg.replace(/[@/]/g, '_'));
}

/**
 * Installs the pinned version when missing (npm, into the scratch folder, --no-save). Resolves
 * with `{ ok: true }` or `{ ok: false, error }`; never throws.
 */
export async function ensurePeer(root, peer, log) {
  const dir = peerDir(root, peer);
  const manifest = join(dir, 'node_modules', peer.pkg, 'package.json');
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === peer.version) return { ok: true };
  log(`installing ${peer.pkg}@${peer.version} into ${dir} (scratch, not a project dependency)…`);
  mkdirSync(dir, { recursive: true });
  try {
    await run('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${peer.pkg}@${peer.version}`], {
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { ok: true };
  } catch (error) {
    const message = String(error.stderr || error.message).split('\n').filter((l) => /error/i.test(l)).slice(0, 3).join(' ');
    return { ok: false, error: `npm install ${peer.pkg}@${peer.version} failed: ${message || error.message}` };
  }
}

/** Bundles a peer's entry (esbuild, minified IIFE) into `outDir/<id>.js`; returns the path. */
export async function bundlePeer(root, peer, outDir) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${peer.id}.js`);
  await esbuild.build({
    stdin: { contents: peer.entry, resolveDir: peerDir(root, peer), loader: 'js' },
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    outfile,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    legalComments: 'none',
  });
  return outfile;
}

/** The peer's own published minified bundle, if its package ships one. */
export function publishedBundle(root, peer) {
  const file = join(peerDir(root, peer), 'node_modules', peer.pkg, peer.published.file);
  return existsSync(file) ? file : undefined;
}
