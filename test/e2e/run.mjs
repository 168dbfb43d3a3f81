// End-to-end run: the built extension installed in a real VS Code (code-server), a workspace holding
// a copy of media/samples/, and the UI driven the way a user drives it, with a screenshot after each
// step in test/e2e/screenshots/.
//
//   npm run e2e                          extension installed from this folder (after `npm run build`)
//   node test/e2e/run.mjs --vsix=FILE    extension installed from a package (`npm run package`)
//
// Each entry of `steps` is one user action and its screenshot; add a view by adding a line.
// Environment: KEEP=1 keeps the run folder (code-server log, Chromium profile).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installExtension, launchBrowser, makeRunDir, startCodeServer } from '../vscode/code-server.mjs';
import { repoRoot } from '../vscode/paths.mjs';

const screenshots = join(repoRoot, 'test', 'e2e', 'screenshots');
const STEP_TIMEOUT_MS = 20_000;

/**
 * The scenario. Keys of a step, run in this order: `open` (a workspace file, through Quick Open),
 * `command` (a palette title), `type` (replaces the text of the focused input), `waitForRows` (the
 * labels the quick-pick list shows once idle), `press` (a key), `waitFor` (a CSS selector),
 * `waitForText` (text anywhere in the workbench), then `shot` (a PNG file name; `shotOf` narrows
 * it to one element, e.g. 'iframe.webview.ready' for a panel).
 */
function steps({ checkpoint, checkpointName }) {
  return [
    { waitForText: 'ThinkScope: no model', shot: '01-workbench.png' },
    { open: 'sample-trace.md', waitFor: '.monaco-editor .view-lines', shot: '02-sample-trace.png' },
    { command: 'ThinkScope: Select Model…', waitForText: 'Select a Hugging Face checkpoint folder', shot: '03-select-model-dialog.png' },
    // The folder dialog lists the folder its path is in: first show the checkpoint inside its parent,
    // then open it (a path ending in '/'; only '..' is listed), and Enter accepts it.
    { type: checkpoint, waitForRows: ['..', checkpointName] },
    { type: `${checkpoint}/`, waitForRows: ['..'], press: 'Enter', waitForText: `ThinkScope: ${checkpointName}`, shot: '04-model-selected.png' },
    { shotOf: '.statusbar-item[id="thinkscope.thinkscope.thinkscope.model"]', shot: '05-status-bar-item.png' },
  ];
}

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

/** A checkpoint folder for "Select Model…": the extension recognises one by its config.json. */
function makeCheckpoint(runDir) {
  const checkpoint = join(runDir, 'models', 'tiny-qwen2');
  mkdirSync(checkpoint, { recursive: true });
  writeFileSync(join(checkpoint, 'config.json'), JSON.stringify({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] }));
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

function waitForRows(page, labels) {
  return page.waitForFunction(
    (labels) => {
      if (document.querySelector('.quick-input-widget .monaco-progress-container.active')) return false;
      const shown = [...document.querySelectorAll('.quick-input-list .monaco-list-row')].map((row) => row.getAttribute('aria-label'));
      return JSON.stringify(shown) === JSON.stringify(labels);
    },
    labels,
    { timeout: STEP_TIMEOUT_MS },
  );
}

async function pick(page, opener, text, rowLabel) {
  await page.keyboard.press(opener);
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { state: 'visible' });
  await page.keyboard.type(text);
  await waitForFocusedRow(page, rowLabel);
  await page.keyboard.press('Enter');
}

async function runStep(page, step) {
  if (step.open) await pick(page, 'Control+P', step.open, step.open.split('/').pop());
  if (step.command) await pick(page, 'Control+Shift+P', step.command, step.command);
  if (step.type) await page.locator(':focus').fill(step.type);
  if (step.waitForRows) await waitForRows(page, step.waitForRows);
  if (step.press) await page.keyboard.press(step.press);
  if (step.waitFor) await page.waitForSelector(step.waitFor, { state: 'visible', timeout: STEP_TIMEOUT_MS });
  if (step.waitForText) await page.getByText(step.waitForText, { exact: false }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
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
    for (const [index, step] of steps({ checkpoint, checkpointName: 'tiny-qwen2' }).entries()) {
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
