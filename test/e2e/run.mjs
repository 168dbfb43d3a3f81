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
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installExtension, launchBrowser, makeRunDir, startCodeServer } from '../vscode/code-server.mjs';
import { repoRoot } from '../vscode/paths.mjs';

const screenshots = join(repoRoot, 'test', 'e2e', 'screenshots');
const STEP_TIMEOUT_MS = 20_000;

/**
 * The scenario. Keys of a step, run in this order: `open` (a workspace file, through Quick Open),
 * `command` (a palette title), `type` (replaces the text of the focused input), `waitForRows` (the
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
    { waitForText: 'Choose or Build a SEAL Direction', waitForGone: '.notification-toast-container .monaco-progress-container.active', shot: '07-analyzed-trace.png' },
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
    { press: 'Control+Shift+E', waitFor: '.pane-header[aria-label*="ThinkScope Steps"]' },
    { waitForText: '#0 ', shot: '08a-steps-view.png' },
    { open: 'reasoner-trace.md', waitFor: '.monaco-editor .view-lines' },
    { press: 'Alt+F9' },
    { press: 'Alt+F9', waitFor: '.monaco-editor .selected-text', shot: '08b-next-step.png' },
    // A reload keeps the analysis: the annotations come back with no model run.
    { reload: true, waitFor: '.monaco-editor .view-overlays div[class*="ced-"]', shot: '08c-after-reload.png' },
    { command: 'ThinkScope: Clear Annotations', waitForGone: '.monaco-editor .view-overlays div[class*="ced-"]' },
    { waitForGone: 'Analyze again', shot: '09-annotations-cleared.png' },
  ];
}

// ---- The ThinkScope panel: Steps, Persona and Steering views ----------------------------------
// Its own fixtures (a tiny real model, two directions made on it, an analysed trace file) and steps.
// Extra step key: `webview` acts inside the panel's webview: { click, fill: [selector, text],
// waitFor, waitForText, scrollTo } (selectors pierce the toolkit's shadow roots).

/** A tiny real model, a SEAL and an Assistant-Axis direction made on it (each alone in its folder, as the folder dialog steps expect), and an analysed sample. */
function makePanelFixtures(runDir, workspace) {
  const cli = (...args) => execFileSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { stdio: 'pipe' });
  const model = join(runDir, 'panel-fixtures', 'model', 'panel-tiny');
  cli('make-model', '--preset', 'tiny', '--out', model);
  const seal = join(runDir, 'panel-fixtures', 'seal', 'seal-tiny');
  const axis = join(runDir, 'panel-fixtures', 'axis', 'axis-tiny');
  cli('direction', 'seal', join(workspace, 'reasoner-trace.md'), '--model', model, '--out', seal);
  cli('direction', 'assistant-axis', '--model', model, '--out', axis, '--fast');
  // The hand-written, fully annotated trace of the unit tests (test/unit/bundle-fixtures.ts).
  const script = `const { sampleTraceFile } = require('./test/unit/bundle-fixtures.ts');
const { serializeTraceFile } = require('./extension/common/bundle/trace-write.ts');
process.stdout.write(serializeTraceFile(sampleTraceFile()));`;
  const trace = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  writeFileSync(join(workspace, 'train-timetable.thinktrace.json'), trace);
  return { model, seal, axis };
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

function panelSteps({ model, seal, axis }) {
  const panel = 'iframe.webview.ready';
  return [
    // A model was used before: Select Model offers it, and Browse… for another folder.
    { command: 'ThinkScope: Select Model…', waitForText: 'Browse…', shot: '09a-select-model-recent.png' },
    { type: 'Browse', waitForRows: ['folder-opened  Browse…'], press: 'Enter', waitForText: 'Select a Hugging Face checkpoint folder' },
    ...pickFolderSteps(model).map((step, i) => (i === 1 ? { ...step, waitForText: 'ThinkScope: panel-tiny' } : step)),
    // A trace file opens as its source text, read-only, with its annotations (trace-viewer.ts).
    { open: 'train-timetable.thinktrace.json', waitFor: '.tab.active[aria-label*="train-timetable (trace).md"]' },
    { command: 'ThinkScope: Open Panel', webview: { waitFor: 'rect.ts-bar' } },
    { webview: { click: 'rect.ts-bar[data-step="2"]' }, waitFor: '.monaco-editor .selected-text', shot: 'panel-01-steps.png' },
    { shotOf: panel, shot: 'panel-02-steps-only.png' },
    { webview: { click: '#tab-persona', waitFor: 'circle.ts-point' }, shot: 'panel-03-persona.png' },
    { webview: { click: '#tab-steering', waitForText: 'No directions loaded' }, shotOf: panel, shot: 'panel-04-steering-empty.png' },
    { webview: { click: '[data-action="load-direction"]' }, waitForText: 'Load saved directions' },
    ...pickFolderSteps(seal),
    { webview: { waitFor: 'input.ts-range' } },
    { webview: { click: '[data-action="load-direction"]' }, waitForText: 'Load saved directions' },
    ...pickFolderSteps(axis),
    { webview: { waitFor: '[data-preset="stayInPersona"]:not([disabled])' } },
    { webview: { click: '[data-preset="stayInPersona"]', waitFor: '[data-preset="stayInPersona"][appearance="primary"]' } },
    { webview: { fill: ['vscode-text-area textarea', 'A train leaves at 3:40 pm and the trip takes 2 h 35 min. When does it arrive?'] } },
    { webview: { click: '[data-action="generate"]', waitForText: 'Done: both replies' }, shot: 'panel-05-steering-generated.png' },
    { webview: { scrollTo: 'table.ts-alignment' }, shotOf: panel, shot: 'panel-06-steering-compared.png' },
    // The same panel in a dark and a high-contrast theme.
    { webview: { click: '#tab-steps' } },
    ...colorThemeSteps('Dark Modern', 'vscode-dark', { shot: 'panel-07-steps-dark.png' }),
    ...colorThemeSteps('Dark High Contrast', 'vscode-high-contrast', { shot: 'panel-08-steps-high-contrast.png' }),
    ...colorThemeSteps('Light High Contrast', 'vscode-high-contrast-light', { webview: { click: '#tab-steering' }, shotOf: panel, shot: 'panel-09-steering-light-high-contrast.png' }),
    ...colorThemeSteps('Dark Modern', 'vscode-dark', {}),
    // Persona drift from the palette on a chat JSON: tick "Persona drift"; the Assistant Axis loaded
    // above is the workspace's only one, so it is used (and remembered) without a question. The JSON
    // opens beside as a readable, annotated view.
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
    const scenario = [...steps({ checkpoint, checkpointName: 'thinkscope-reasoner' }), ...panelSteps(makePanelFixtures(runDir, workspace))];
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
