// End-to-end run: the built extension installed in a real VS Code (code-server), a workspace holding
// a copy of media/samples/, and the UI driven the way a user drives it, with a screenshot after each
// step in test/e2e/screenshots/.
//
//   npm run e2e                          extension installed from this folder (after `npm run build`)
//   node test/e2e/run.mjs --vsix=FILE    extension installed from a package (`npm run package`)
//
// Each entry of `steps` is one user action and its screenshot; add a view by adding a line.
// Environment: KEEP=1 keeps the run folder (code-server log, Chromium profile).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installExtension, launchBrowser, makeRunDir, startCodeServer } from '../vscode/code-server.mjs';
import { repoRoot } from '../vscode/paths.mjs';

const screenshots = join(repoRoot, 'test', 'e2e', 'screenshots');
const STEP_TIMEOUT_MS = 20_000;

/**
 * The scenario. Keys of a step, run in this order: `open` (a workspace file, through Quick Open),
 * `command` (a palette title), `click` (a CSS selector in the workbench), `type` (replaces the text of the focused input), `waitForRows` (the
 * labels the quick-pick list shows once idle), `press` (a key), `keyboard` (text typed where the focus is, e.g. over an editor selection), `webview` (an action inside a
 * panel, see the panel section), `hover` (moves the mouse onto text shown in an editor), `waitFor`
 * (a CSS selector), `waitForText` (text anywhere in the workbench), `waitForGone` (text, or a CSS
 * selector, no longer shown), `settle` (a CSS selector whose element has finished fading in), then `shot` (a PNG file name; `shotOf` narrows it to one element,
 * e.g. 'iframe.webview.ready' for a panel).
 */
function steps({ checkpoint, checkpointName }) {
  return [
    { waitForText: 'ThinkScope: no model', shot: '01-workbench.png' },
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines', shot: '02-trace.png' },
    { command: 'ThinkScope: Select Model…', waitForText: 'Select a Hugging Face checkpoint folder', shot: '03-select-model-dialog.png' },
    // The folder dialog lists the folder its path is in: first show the checkpoint inside its parent,
    // then open it (a path ending in '/'; only '..' is listed), and Enter accepts it.
    { type: checkpoint, waitForRows: ['..', checkpointName] },
    { type: `${checkpoint}/`, waitForRows: ['..'], press: 'Enter', waitForText: `ThinkScope: ${checkpointName}`, shot: '04-model-selected.png' },
    { shotOf: '.statusbar-item[id="thinkscope.thinkscope.thinkscope.model"]', shot: '05-status-bar-item.png' },
    // Analyze with the remembered analyses (TTS and SEAL); decorations are overlay divs of the editor.
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines' },
    { command: 'ThinkScope: Analyze Trace', waitForText: 'Each assistant turn projected onto the Assistant Axis', shot: '06-choose-analyses.png' },
    { press: 'Enter' },
    // The analysis (TTS, SEAL, logit lens) may outlast one step's wait on a busy machine. Without a SEAL
    // direction the classes come from keywords, and the latent score is offered once it is done.
    { waitFor: '.monaco-editor .view-overlays div[class*="ced-"]' },
    { waitForText: 'Choose or Build a SEAL Direction' },
    { waitForText: 'Choose or Build a SEAL Direction', waitForGone: '.notification-toast-container .monaco-progress-container.active' },
    { waitForText: '#1 TTS 0.99', shot: '07-analyzed-trace.png' },
    { command: 'Notifications: Clear All Notifications', waitForGone: '.notification-toast-container' },
    { hover: 'Wait, let me check: 26', waitForText: 'Steer this step', settle: '.monaco-hover', shot: '08-step-hover.png' },
    { press: 'Escape' },
    // What if: the last step the answer depends on ("74 - 2 = 72.", line 14), its result typed over, gets
    // the answer's readout.
    ...goToLineSteps(14),
    { press: 'End' },
    { press: 'ArrowLeft' },
    { press: 'Shift+ArrowLeft' },
    { press: 'Shift+ArrowLeft' },
    { keyboard: '62' },
    { command: 'ThinkScope: Open Panel', webview: { waitFor: '[data-what-if]' }, shot: 'what-if-01-edit.png' },
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines' },
    ...goToLineSteps(14),
    { press: 'End' },
    { press: 'ArrowLeft' },
    { press: 'Shift+ArrowLeft' },
    { press: 'Shift+ArrowLeft' },
    { keyboard: '72' },
    // The logit lens (on by default) in the panel's heatmap.
    { webview: { waitForText: 'logit lens', scrollTo: '[data-chart="heatmap"]' }, shotOf: 'iframe.webview.ready', shot: 'what-if-02-logit-lens.png' },
    // Pruning: the lowest-TTS half removed, the diff with the original opened.
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines' },
    { command: 'ThinkScope: Prune Decorative Thinking…', waitFor: '.quick-input-list .monaco-list-row.focused[aria-label^="Lowest 50% by TTS"]' },
    { press: 'Enter' },
    { waitFor: '.monaco-diff-editor', waitForText: 'of the tokens saved', shot: 'what-if-03-prune-diff.png' },
    { command: 'View: Close All Editors', waitForGone: '.monaco-diff-editor' },
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines' },
    // The Steps view (Explorer) lists the analysed steps; Alt+F9 walks them like F8 walks problems.
    { command: 'Notifications: Clear All Notifications' },
    { press: 'Control+Shift+E', waitFor: '.pane-header[aria-label*="ThinkScope Steps"]' },
    { click: '.pane-header[aria-label*="ThinkScope Steps"][aria-expanded="false"]', waitFor: '.pane-header[aria-label*="ThinkScope Steps"][aria-expanded="true"]' },
    { waitForText: '#1 77 + 2', shot: '08a-steps-view.png' },
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines' },
    { press: 'Alt+F9' },
    { press: 'Alt+F9', waitFor: '.monaco-editor .selected-text', shot: '08b-next-step.png' },
    // A reload keeps the analysis: the annotations come back with no model run.
    // (The workbench may come back without its editors when the reload follows the last change closely: open the trace again.)
    { reload: true },
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-overlays div[class*="ced-"]', shot: '08c-after-reload.png' },
    { command: 'ThinkScope: Clear Annotations', waitForGone: '.monaco-editor .view-overlays div[class*="ced-"]' },
    { waitForGone: 'Analyze again', shot: '09-annotations-cleared.png' },
  ];
}

// ---- The ThinkScope panel: Steps, Persona and Steering views ----------------------------------
// Its own fixtures (directions made on the bundled reasoner, its sample analysed into a trace file) and steps.
// Extra step key: `webview` acts inside the panel's webview: { click, fill: [selector, text],
// hover, waitFor, waitForText, scrollTo } (selectors pierce the toolkit's shadow roots).

/**
 * A SEAL and an Assistant-Axis direction made on the reasoner as the demo makes them (each alone in its
 * folder, as the folder dialog steps expect), and its sample trace analysed into a trace file with them.
 */
function makePanelFixtures(runDir, workspace, checkpoint) {
  const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { stdio: 'pipe' });
  const seal = join(runDir, 'panel-fixtures', 'seal', 'reasoner-seal');
  const axis = join(runDir, 'panel-fixtures', 'axis', 'reasoner-axis');
  const calibration = join(workspace, 'reasoner-calibration');
  const traces = readdirSync(calibration).filter((name) => name.endsWith('.md')).map((name) => join(calibration, name));
  // Layer 2, as the demo and the model card: at the default layer 3 the opening step reads as reflection.
  cli('direction', 'seal', ...traces, '--model', checkpoint, '--layer', '2', '--out', seal);
  cli('direction', 'assistant-axis', '--model', checkpoint, '--out', axis, '--fast');
  // From the workspace, so the trace file names its source as the editor does (reasoner-trace.md, not a path).
  execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'analyze', 'reasoner-trace.md', '--model', checkpoint, '--tts', '--lens', '--seal', '--seal-direction', seal, '--seal-layer', '2', '--out', 'reasoner-analysed.thinktrace.json'], { cwd: workspace, stdio: 'pipe' });
  return { seal, axis, calibration };
}

/** The HTML export of the analysed sample (what Export Trace… writes) as a browser shows it, the whole page. */
async function exportShot(browser, runDir, workspace) {
  const html = join(runDir, 'reasoner-trace.html');
  execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'export', join(workspace, 'reasoner-analysed.thinktrace.json'), '--html', html], { stdio: 'pipe' });
  const page = await browser.newPage();
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('#chart-tts svg');
    const path = join(screenshots, 'export-html.png');
    await page.screenshot({ path, fullPage: true });
    return path;
  } finally {
    await page.close();
  }
}

/** Moves the cursor to the start of a line of the active editor (Go to Line). */
function goToLineSteps(line) {
  return [{ press: 'Control+G', waitFor: '.quick-input-widget .quick-input-box input' }, { type: `:${line}`, press: 'Enter', waitForGone: '.quick-input-widget .quick-input-box input' }];
}

/** Picks a folder in the workbench's folder dialog: show it inside its parent, open it, accept. */
function pickFolderSteps(folder) {
  const name = folder.split('/').pop();
  return [{ type: folder, waitForRows: ['..', name] }, { type: `${folder}/`, waitForRows: ['..'], press: 'Enter' }];
}

/**
 * Switches the color theme (Ctrl+K Ctrl+T, the theme's name, Enter) and waits until the panel has
 * it (`kind`: the body class VS Code gives a webview), then runs `then`.
 */
function colorThemeSteps(theme, kind, then) {
  return [
    { press: 'Control+K' },
    { press: 'Control+T', waitFor: '.quick-input-widget .quick-input-box input' },
    { type: theme, waitFor: `.quick-input-list .monaco-list-row.focused[aria-label^="${theme}"]` },
    { press: 'Enter' },
    { webview: { waitFor: `body.${kind}` }, ...then },
  ];
}

function panelSteps({ seal, axis, calibration }) {
  const panel = 'iframe.webview.ready';
  return [
    // A model was used before: Select Model offers it, and Browse… for another folder.
    { command: 'ThinkScope: Select Model…', waitForText: 'Browse…', shot: '09a-select-model-recent.png' },
    { press: 'Escape' },
    // A trace file opens as its source text, read-only, with its annotations (trace-viewer.ts).
    { open: 'reasoner-analysed.thinktrace.json', waitFor: '.tab.active[aria-label*="(trace).md"]' },
    { command: 'ThinkScope: Open Panel', webview: { waitFor: 'rect.ts-bar' } },
    // The layer × step heatmap below the strip is filled by the analysis's SEAL direction (and the logit lens).
    { webview: { click: 'rect.ts-bar[data-step="2"]', waitFor: 'rect.ts-cell' }, waitFor: '.monaco-editor .selected-text', shot: 'panel-01-steps.png' },
    { shotOf: panel, shot: 'panel-02-steps-only.png' },
    { webview: { click: '#tab-steering', waitForText: 'No directions loaded' }, shotOf: panel, shot: 'panel-04-steering-empty.png' },
    { webview: { click: '[data-action="load-direction"]' }, waitForText: 'Load saved directions' },
    ...pickFolderSteps(seal),
    { webview: { waitFor: 'input.ts-range' } },
    { webview: { click: '[data-action="load-direction"]' }, waitForText: 'Load saved directions' },
    ...pickFolderSteps(axis),
    { webview: { waitFor: '[data-preset="lessReflection"]:not([disabled])' } },
    { webview: { click: '[data-preset="lessReflection"]', waitFor: '[data-preset="lessReflection"][appearance="primary"]' } },
    { webview: { fill: ['vscode-text-area textarea', 'Ben has 77 cookies. Ben wins 2 more, then sells 5, then gives away 2. How many cookies now?'] } },
    { webview: { click: '[data-action="generate"]', waitForText: 'Done: both replies' }, shot: 'panel-05-steering-generated.png' },
    { webview: { scrollTo: 'table.ts-alignment' }, shotOf: panel, shot: 'panel-06-steering-compared.png' },
    // The same panel in a dark and a high-contrast theme.
    { webview: { click: '#tab-steps' } },
    ...colorThemeSteps('Dark Modern', 'vscode-dark', { shot: 'panel-07-steps-dark.png' }),
    ...colorThemeSteps('Dark High Contrast', 'vscode-high-contrast', { shot: 'panel-08-steps-high-contrast.png' }),
    ...colorThemeSteps('Light High Contrast', 'vscode-high-contrast-light', { webview: { click: '#tab-steering' }, shotOf: panel, shot: 'panel-09-steering-light-high-contrast.png' }),
    ...colorThemeSteps('Dark Modern', 'vscode-dark', {}),
    { command: 'View: Close All Editors' },
    // A DeepSeek API response (reasoning_content) analysed with the remembered analyses: its thinking
    // opens beside as a readable view, one step per line, annotated.
    { open: 'reasoner-trace.json', waitFor: '.monaco-editor .view-lines' },
    { command: 'ThinkScope: Analyze Trace', waitForText: 'Each assistant turn projected onto the Assistant Axis' },
    { press: 'Enter' },
    { waitFor: '.tab[aria-label*="reasoner-trace (readable).md"]', waitForGone: '.notification-toast-container .monaco-progress-container.active' },
    { waitFor: '.monaco-editor .view-overlays div[class*="ced-"]', shot: 'json-01-deepseek-readable.png' },
    { command: 'View: Close All Editors' },
    // Persona drift from the palette on a chat JSON: the Assistant Axis loaded above is the workspace's
    // only one, so it is used (and remembered) without a question. The JSON opens beside as a readable,
    // annotated view.
    { open: 'reasoner-chat.json', waitFor: '.monaco-editor .view-lines' },
    { command: 'ThinkScope: Analyze Trace', waitForText: 'Each assistant turn projected onto the Assistant Axis' },
    // The remembered analyses are TTS, SEAL and the logit lens: a chat without a \boxed{} answer has no answer
    // for TTS and the lens to measure, so untick them and tick Persona drift.
    { press: 'ArrowDown' },
    { press: 'Space' },
    { press: 'ArrowDown' },
    { press: 'ArrowDown' },
    { press: 'Space' },
    { press: 'ArrowDown' },
    { press: 'Space', shot: 'persona-01-choose.png' },
    { press: 'Enter' },
    { waitFor: '.tab[aria-label*="reasoner-chat (readable).md"]', waitForGone: '.notification-toast-container .monaco-progress-container.active' },
    { waitFor: '.monaco-editor .view-overlays div[class*="ced-"]', shot: 'persona-03-readable-json.png' },
    { command: 'ThinkScope: Open Panel', webview: { click: '#tab-persona', waitFor: 'circle.ts-point' }, shotOf: panel, shot: 'persona-04-panel.png' },
    { webview: { click: '#tab-steps', waitFor: 'rect.ts-cell' }, shotOf: panel, shot: 'persona-05-heatmap.png' },
    { command: 'View: Close All Editors' },
    // A folder of the reasoner's traces pruned under the default rules: the folder's pruning panel, a point hovered.
    { command: 'ThinkScope: Prune a Folder of Traces…', waitForText: 'Prune These Traces' },
    ...pickFolderSteps(calibration),
    { waitForText: 'Rules to compare' },
    { press: 'Enter' },
    { webview: { waitFor: '.ts-prune-marker', hover: '.ts-prune-marker .ts-point >> nth=1', waitForVisible: '.ts-chart-tooltip' }, shotOf: panel, shot: 'prune-folder-panel.png' },
  ];
}

/** The frame (two iframes deep in the workbench) whose document matches `selector`. */
async function webviewFrame(page, selector) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.$(selector).catch(() => null)) return frame;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no webview shows ${selector}`);
}

async function runWebviewStep(page, step) {
  if (step.click) await (await webviewFrame(page, step.click)).locator(step.click).first().click();
  if (step.hover) await (await webviewFrame(page, step.hover.split(' >> ')[0])).locator(step.hover).first().hover();
  if (step.waitForVisible) await (await webviewFrame(page, step.waitForVisible)).locator(step.waitForVisible).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  if (step.fill) await (await webviewFrame(page, step.fill[0])).locator(step.fill[0]).first().fill(step.fill[1]);
  if (step.waitFor) await webviewFrame(page, step.waitFor);
  if (step.waitForText) await webviewFrame(page, `text=${step.waitForText}`);
  if (step.scrollTo) await (await webviewFrame(page, step.scrollTo)).locator(step.scrollTo).first().scrollIntoViewIfNeeded();
}
// ---- end of the panel section -----------------------------------------------------------------

function parseArguments(argv) {
  const options = {};
  for (const arg of argv) {
    const [name, value] = arg.split(/=(.*)/s);
    if (name === '--vsix' && value) options.vsix = value;
    else throw new Error(`unknown argument ${arg}; usage: node test/e2e/run.mjs [--vsix=FILE]`);
  }
  if (options.vsix && !existsSync(options.vsix)) throw new Error(`--vsix=${options.vsix}: no such file (build it with \`npm run package\`)`);
  return options;
}

/** Installs the extension the way a user would have it: unpacked from this folder, or from a .vsix. */
async function installThinkScope(runDir, vsix) {
  if (vsix) {
    await installExtension({ runDir, vsix });
    return;
  }
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing; run `npm run build` first');
  const { publisher, name, version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const extensions = join(runDir, 'extensions');
  mkdirSync(extensions, { recursive: true });
  symlinkSync(repoRoot, join(extensions, `${publisher}.${name}-${version}`));
}

/** The workspace a user would open: a copy of the samples, so the run may change files freely. */
function makeWorkspace(runDir) {
  const workspace = join(runDir, 'workspace');
  cpSync(join(repoRoot, 'media', 'samples'), workspace, { recursive: true });
  return workspace;
}

/**
 * A checkpoint for "Select Model…": a copy of the bundled trained reasoner (alone in its folder, as the
 * folder dialog steps expect), so the analysed sample's scores are the model's real findings.
 */
function makeCheckpoint(runDir) {
  const checkpoint = join(runDir, 'models', 'thinkscope-reasoner');
  cpSync(join(repoRoot, 'media', 'models', 'thinkscope-reasoner'), checkpoint, { recursive: true });
  return checkpoint;
}

// Quick picks fill and filter asynchronously, and ignore Enter while busy: pressing it too early
// runs whichever row came first, or nothing.
function waitForFocusedRow(page, label) {
  return page.waitForFunction(
    (label) => {
      if (document.querySelector('.quick-input-widget .monaco-progress-container.active')) return false;
      const focused = document.querySelector('.quick-input-list .monaco-list-row.focused');
      return (focused?.getAttribute('aria-label') ?? '').startsWith(label);
    },
    label,
    { timeout: STEP_TIMEOUT_MS },
  );
}

/** The aria labels of the quick-pick rows shown now (runs in the page). */
function quickPickRows() {
  return [...document.querySelectorAll('.quick-input-list .monaco-list-row')].map((row) => row.getAttribute('aria-label'));
}

async function waitForRows(page, labels) {
  try {
    await page.waitForFunction(
      (labels) => {
        if (document.querySelector('.quick-input-widget .monaco-progress-container.active')) return false;
        const shown = [...document.querySelectorAll('.quick-input-list .monaco-list-row')].map((row) => row.getAttribute('aria-label'));
        return JSON.stringify(shown) === JSON.stringify(labels);
      },
      labels,
      { timeout: STEP_TIMEOUT_MS },
    );
  } catch (error) {
    throw new Error(`${error.message}; the list shows ${JSON.stringify(await page.evaluate(quickPickRows))}, expected ${JSON.stringify(labels)}`);
  }
}

async function pick(page, opener, text, rowLabel) {
  await page.keyboard.press(opener);
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible' });
  await page.keyboard.type(text);
  await waitForFocusedRow(page, rowLabel);
  await page.keyboard.press('Enter');
}

/** Waits until the element is shown at full opacity with no animation running (a hover fades in). */
async function waitUntilSettled(page, selector) {
  await page.waitForFunction(
    (selector) => {
      const element = document.querySelector(selector);
      if (!element || element.getAnimations({ subtree: true }).some((a) => a.playState === 'running')) return false;
      for (let e = element; e; e = e.parentElement) if (Number(getComputedStyle(e).opacity) < 1) return false;
      return true;
    },
    selector,
    { timeout: STEP_TIMEOUT_MS },
  );
}

async function runStep(page, step) {
  if (step.reload) {
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  }
  if (step.open) await pick(page, 'Control+P', step.open, step.open.split('/').pop());
  if (step.command) await pick(page, 'Control+Shift+P', step.command, step.command);
  if (step.click) await page.locator(step.click).first().click();
  if (step.type) await page.locator(':focus').fill(step.type);
  if (step.waitForRows) await waitForRows(page, step.waitForRows);
  if (step.press) await page.keyboard.press(step.press);
  if (step.keyboard) await page.keyboard.type(step.keyboard);
  if (step.webview) await runWebviewStep(page, step.webview);
  if (step.hover) await page.locator('.monaco-editor .view-lines').getByText(step.hover).first().hover();
  if (step.waitFor) await page.waitForSelector(step.waitFor, { state: 'visible', timeout: STEP_TIMEOUT_MS });
  if (step.waitForText) await page.getByText(step.waitForText, { exact: false }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  if (step.waitForGone) {
    const gone = /^[.#[]/.test(step.waitForGone) ? page.locator(step.waitForGone) : page.getByText(step.waitForGone, { exact: false });
    await gone.first().waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
  }
  if (step.settle) await waitUntilSettled(page, step.settle);
  if (step.shot) {
    const path = join(screenshots, step.shot);
    if (step.shotOf) await page.locator(step.shotOf).screenshot({ path });
    else await page.screenshot({ path });
    return path;
  }
  return undefined;
}

async function main() {
  let options;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`e2e: ${error.message}`);
    process.exit(2);
  }
  const runDir = makeRunDir('e2e');
  mkdirSync(screenshots, { recursive: true });
  const started = Date.now();
  const log = (message) => console.log(`${((Date.now() - started) / 1000).toFixed(1)}s ${message}`);
  let server;
  let browser;
  let failed = false;
  try {
    await installThinkScope(runDir, options.vsix);
    const workspace = makeWorkspace(runDir);
    const checkpoint = makeCheckpoint(runDir);
    server = await startCodeServer({ runDir });
    browser = await launchBrowser(runDir);
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    log(`workbench loaded (${options.vsix ? `from ${options.vsix}` : 'extension from this folder'})`);
    const fixtures = makePanelFixtures(runDir, workspace, checkpoint);
    const scenario = [...steps({ checkpoint, checkpointName: 'thinkscope-reasoner' }), ...panelSteps(fixtures)];
    for (const [index, step] of scenario.entries()) {
      try {
        const shot = await runStep(page, step);
        log(`step ${index + 1} done${shot ? `: ${shot}` : ''}`);
      } catch (error) {
        const shot = join(screenshots, `failed-step-${index + 1}.png`);
        await page.screenshot({ path: shot }).catch(() => {});
        throw new Error(`step ${index + 1} (${JSON.stringify(step)}) failed: ${error instanceof Error ? error.message : error}\nscreenshot: ${shot}; code-server log: ${server.logFile}`);
      }
    }
    log(`export: ${await exportShot(browser, runDir, workspace)}`);
  } catch (error) {
    console.error(`e2e: ${error instanceof Error ? error.message : error}`);
    failed = true;
  } finally {
    await browser?.close().catch(() => {});
    server?.stop();
    if (process.env.KEEP === '1' || failed) console.log(`run folder kept: ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

await main();
