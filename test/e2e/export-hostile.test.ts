// The HTML export in a real browser (headless Chromium): the sample's charts and steps are there,
// and a hostile trace runs no script, opens no dialog and sends no request.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { exportHtml } from '../../extension/common/export/html';
import type { TraceFile } from '../../extension/common/bundle/trace-file';
import { newTraceFile, unscoredStep } from '../../extension/common/bundle/trace-write';
import { hostileTraceFile, sampleTraceFile } from '../unit/bundle-fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, 'screenshots');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.error(`\n${'!'.repeat(78)}\n!! SKIPPED: the HTML export browser tests need Chromium at ${CHROMIUM}.\n!! Install it (apt-get install -y chromium) or set CHROMIUM_PATH.\n${'!'.repeat(78)}\n`);
}

let browser: Browser;
let chartScript: string;
let folder: string;

before(async () => {
  if (!haveChromium) return;
  // The same bundle `npm run build` writes to dist/trace-export.js, built here from source.
  const built = await esbuild.build({
    entryPoints: [join(__dirname, '..', '..', 'webview', 'charts', 'export-page.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  chartScript = built.outputFiles[0].text;
  folder = mkdtempSync(join(tmpdir(), 'thinkscope-export-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  url: string;
  /** Every request the page made, the page's own file included. */
  requests: string[];
  dialogs: string[];
  consoleErrors: string[];
}

async function open(file: TraceFile, name: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Opened> {
  const path = join(folder, `${name}.html`);
  writeFileSync(path, exportHtml(file, { chartScript }));
  const url = pathToFileURL(path).href;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme });
  const opened: Opened = { page, url, requests: [], dialogs: [], consoleErrors: [] };
  page.on('request', (request) => opened.requests.push(request.url()));
  page.on('dialog', (dialog) => {
    opened.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') opened.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => opened.consoleErrors.push(error.message));
  await page.route('**', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.addInitScript(() => {
    const w = window as unknown as { violations: string[] };
    w.violations = [];
    document.addEventListener('securitypolicyviolation', (event) => w.violations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  // Drawn, not necessarily visible: a bar of a near-zero score has no height.
  await page.waitForSelector('#chart-tts rect.ts-bar', { state: 'attached' });
  return opened;
}

const count = (page: Page, selector: string) => page.locator(selector).count();

test('the sample export shows every step, the charts and their links', { skip: !haveChromium }, async () => {
  const file = sampleTraceFile();
  const { page, url, requests, dialogs, consoleErrors } = await open(file, 'sample');
  assert.equal(await count(page, '#ts-trace .ts-step'), file.steps.length);
  assert.equal(await count(page, '#chart-tts rect.ts-bar'), file.steps.length);
  assert.equal(await count(page, '#chart-seal rect.ts-segment'), 3);
  assert.equal(await count(page, '#chart-heatmap rect.ts-cell'), file.steps.length * file.directions[0].layers.length);
  assert.equal(await count(page, '#chart-persona circle.ts-point'), file.turns.length);
  assert.equal(await count(page, '#chart-persona circle.ts-below-floor'), 1);
  assert.equal(await count(page, 'tbody tr[data-step]'), file.steps.length);
  assert.equal(await count(page, '#chart-tts .ts-all-low'), 0, 'scores that show as bars need no caption');

  await page.click('#chart-tts rect.ts-bar[data-step="4"]');
  assert.equal(await page.getAttribute('#step-4', 'class'), 'ts-step ts-transition ts-active');
  await page.focus('#chart-tts rect.ts-bar[data-step="4"]');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  assert.match((await page.getAttribute('#step-5', 'class')) ?? '', /ts-active/);
  assert.equal(await page.getAttribute('#chart-tts rect.ts-bar[data-step="2"]', 'aria-label'), 'Step 2: reflection (wait), TTS 0.12');

  await page.locator('#heatmap-controls select').selectOption({ label: 'assistant-axis' });
  assert.match((await page.textContent('#chart-heatmap svg')) ?? '', /L22/);

  await page.hover('#step-2');
  const tooltip = (await page.textContent('#ts-tooltip')) ?? '';
  assert.match(tooltip, /Step 2 · reflection \(wait\)/);
  assert.match(tooltip, /TTS0\.12/);
  assert.match(tooltip, /seal-calibration-1\.330 at layer 22/);
  assert.equal(await count(page, '#chart-tts rect.ts-bar.ts-selected[data-step="2"]'), 1);

  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'export-sample.png'), fullPage: true });
  await page.click('#ts-toolbar button');
  await page.click('#ts-toolbar button');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  await page.screenshot({ path: join(SCREENSHOTS, 'export-sample-dark.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: join(SCREENSHOTS, 'export-sample-print.png'), fullPage: true });

  assert.deepStrictEqual(requests, [url], 'the page itself, nothing else');
  assert.deepStrictEqual(dialogs, []);
  assert.deepStrictEqual(consoleErrors, [], 'no CSP violation or script error');
  assert.deepStrictEqual(await page.evaluate(() => (window as unknown as { violations: string[] }).violations), []);
  await page.close();
});

test('scores too small to see as bars are said in words', { skip: !haveChromium }, async () => {
  const sample = sampleTraceFile();
  const file = { ...sample, steps: sample.steps.map((step) => (step.tts === null ? step : { ...step, tts: 4.2e-8 })) };
  const { page } = await open(file, 'all-low');
  assert.equal(await count(page, '#chart-tts rect.ts-bar'), file.steps.length);
  assert.match((await page.locator('#chart-tts .ts-all-low').textContent()) ?? '', /every step scores below 0\.01 \(the largest is 4\.2e-8\)/i);
  await page.close();
});

test('a hostile trace with 10 MB of text renders as text: no script, dialog or request', { skip: !haveChromium, timeout: 240_000 }, async () => {
  const file = hostileTraceFile(10 * 1024 * 1024);
  const { page, url, requests, dialogs, consoleErrors } = await open(file, 'hostile', 'dark');
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined, 'no script from the data ran');
  assert.deepStrictEqual(dialogs, []);
  assert.deepStrictEqual(requests.filter((r) => r !== url), [], 'no request left the page');
  assert.deepStrictEqual(consoleErrors, []);
  assert.deepStrictEqual(await page.evaluate(() => (window as unknown as { violations: string[] }).violations), []);

  assert.equal(await count(page, 'script'), 2, 'the data block and the page script, nothing more');
  assert.equal(await count(page, 'img, svg image, iframe, object, embed, a, link, base, form, body style'), 0);
  assert.equal(await count(page, '#ts-trace .ts-step'), file.steps.length);
  assert.equal(await count(page, '#chart-tts rect.ts-bar'), file.steps.length);
  const heading = (await page.textContent('h1')) ?? '';
  assert.ok(heading.startsWith('<script>window.__pwned = "script tag"</script>'), 'the name is shown as the text it is');
  assert.match(heading, /user\s*U\+202E\s*gnp\.exe/, 'bidi override shown as a marker');
  assert.equal(await page.evaluate(() => /[\u202A-\u202E\u2066-\u2069]/.test(document.body.innerText)), false);

  await page.locator('#heatmap-controls select').selectOption({ index: 2 });
  await page.hover('#step-8');
  assert.match((await page.textContent('#ts-tooltip')) ?? '', /<script>window\.__pwned/);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
  await page.close();
});

test('the TTS strip of 400 steps: a window of bars at least 8 px wide, a brush to move it, step numbers, styled tooltips', { skip: !haveChromium }, async () => {
  const lines = Array.from({ length: 400 }, (_, i) => `Then ${i} + 1 = ${i + 1}.`);
  const text = `<think>\n${lines.join('\n')}\n</think>\n`;
  let offset = '<think>\n'.length;
  const steps = lines.map((line, index) => {
    const start = offset;
    offset += line.length + 1;
    return { ...unscoredStep({ index, start, end: start + line.length, text: line, perturbable: true }), tts: index === 7 ? 0 : (index % 10) / 10, sealClass: 'execution' as const };
  });
  const { page, consoleErrors } = await open(newTraceFile({ toolVersion: 'test', source: { name: 'long.md', format: 'markdown', text }, steps }), 'long-strip');
  const shown = await count(page, '#chart-tts rect.ts-bar');
  assert.ok(shown > 20 && shown < 400, `${shown} bars in the window`);
  assert.equal(await count(page, '#chart-tts .ts-overview-bar'), 400, 'the overview shows every step');
  const widths = await page.$$eval('#chart-tts rect.ts-hit', (hits) => hits.map((hit) => hit.getBoundingClientRect().width));
  assert.ok(Math.min(...widths) >= 8, `narrowest hit target ${Math.min(...widths)} px`);
  // A bar of height 0 is still hoverable: its column shows the styled tooltip.
  await page.hover('#chart-tts .ts-bar-group:has(rect.ts-bar[data-step="7"]) rect.ts-hit');
  assert.match((await page.textContent('#chart-tts .ts-strip-tooltip')) ?? '', /^Step 7: /);
  assert.equal(await page.isVisible('#chart-tts .ts-strip-tooltip'), true);
  const ticks = await page.$$eval('#chart-tts .ts-step-axis .tick text', (texts) => texts.map((t) => t.textContent));
  assert.equal(ticks[0], '0');
  assert.ok(ticks.length > 4, `step numbers on the axis: ${ticks.join(',')}`);

  // Dragging the brush to the end shows the last steps.
  const overview = await page.locator('#chart-tts .ts-overview').boundingBox();
  assert.ok(overview);
  const selection = await page.locator('#chart-tts .ts-brush .selection').boundingBox();
  assert.ok(selection);
  await page.mouse.move(selection.x + selection.width / 2, selection.y + selection.height / 2);
  await page.mouse.down();
  await page.mouse.move(overview.x + overview.width + 50, selection.y + selection.height / 2, { steps: 5 });
  await page.mouse.up();
  assert.equal(await count(page, '#chart-tts rect.ts-bar[data-step="399"]'), 1, 'the last step after dragging the brush to the end');
  assert.equal(await count(page, '#chart-tts rect.ts-bar[data-step="0"]'), 0);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.locator('#chart-tts').screenshot({ path: join(SCREENSHOTS, 'tts-strip-400.png') });
  assert.deepStrictEqual(consoleErrors, []);
  await page.close();
});
