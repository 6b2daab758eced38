// Makes sure the three engines of the browser tests are installed from Debian (never `playwright
// install`: browsers are not downloadable here): chromium, firefox-esr, webkit2gtk-driver (WebKitGTK
// and its MiniBrowser) and xvfb (MiniBrowser has no headless mode). As root, installs what is
// missing with one apt-get update; otherwise names the command to run. OUTBOX_ENGINES narrows the
// engines checked, as it narrows the tests.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const wanted = (process.env.OUTBOX_ENGINES ?? 'chromium,firefox,webkit').split(',').map((name) => name.trim()).filter(Boolean);
const needs = {
  chromium: [{ path: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', pkg: 'chromium' }],
  firefox: [{ path: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', pkg: 'firefox-esr' }],
  webkit: [
    { path: process.env.WEBKIT_WEBDRIVER_PATH ?? '/usr/bin/WebKitWebDriver', pkg: 'webkit2gtk-driver' },
    // Only when there is no display to run MiniBrowser on.
    ...(process.env.DISPLAY ? [] : [{ path: '/usr/bin/Xvfb', pkg: 'xvfb' }]),
  ],
};
for (const name of wanted) {
  if (!(name in needs)) {
    console.error(`[outbox] OUTBOX_ENGINES: unknown engine "${name}" (known: ${Object.keys(needs).join(', ')})`);
    process.exit(1);
  }
}
const missing = [...new Set(wanted.flatMap((name) => needs[name]).filter(({ path }) => !existsSync(path)).map(({ pkg }) => pkg))];
if (missing.length > 0) {
  const command = `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`[outbox] the browser tests need Debian packages: ${missing.join(', ')}. Install them (sudo ${command}) or narrow OUTBOX_ENGINES.`);
    process.exit(1);
  }
  console.log(`[outbox] installing ${missing.join(', ')} for the browser tests…`);
  execSync(command, { stdio: 'inherit' });
}
