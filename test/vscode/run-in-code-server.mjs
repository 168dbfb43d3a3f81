// Runs VS Code extension tests inside code-server, taking the command line that
// @vscode/test-electron's runTests() gives a VS Code binary (through ./code-server-shim).
//
// code-server refuses --extensionDevelopmentPath/--extensionTestsPath on its own command line, but
// its workbench takes them from the page URL (`payload`): it then loads the extension under
// development into the Node extension host, runs the tests module's `run()` and reports the result
// through `window.codeAutomationExit(code)`. The extension host's console reaches the page console,
// which is how mocha's report gets back to this terminal.
//
//   node test/vscode/run-in-code-server.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [WORKSPACE]
//
// Options: --timeout=SECONDS (default 300; on expiry saves a screenshot and exits 124);
// --user-data-dir=DIR and --extensions-dir=DIR as in VS Code (default: fresh folders per run).
// Environment: KEEP=1 keeps the run folder (logs, profile); VERBOSE=1 prints all page console output.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { launchBrowser, makeRunDir, startCodeServer } from './code-server.mjs';
import { vscodeTestDir } from './paths.mjs';

// Switches VS Code accepts that mean nothing to a browser workbench.
const IGNORED_SWITCHES = new Set([
  '--no-sandbox', '--disable-gpu-sandbox', '--disable-gpu', '--disable-updates', '--skip-welcome',
  '--skip-release-notes', '--disable-workspace-trust', '--disable-telemetry', '--new-window', '--wait',
]);
const VALUE_OPTIONS = ['extensionDevelopmentPath', 'extensionTestsPath', 'user-data-dir', 'extensions-dir', 'timeout'];

function parseArguments(argv) {
  const options = { extensionDevelopmentPath: [], workspace: undefined, timeoutSeconds: 300 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (options.workspace) throw new Error(`only one folder can be opened; got ${options.workspace} and ${arg}`);
      options.workspace = resolve(arg);
      continue;
    }
    if (IGNORED_SWITCHES.has(arg)) continue;
    const [name, inlineValue] = arg.slice(2).split(/=(.*)/s);
    if (!VALUE_OPTIONS.includes(name)) {
      console.warn(`run-in-code-server: ignoring unsupported option ${arg}`);
      continue;
    }
    const value = inlineValue ?? argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (name === 'extensionDevelopmentPath') options.extensionDevelopmentPath.push(resolve(value));
    else if (name === 'extensionTestsPath') options.extensionTestsPath = resolve(value);
    else if (name === 'user-data-dir') options.userDataDir = resolve(value);
    else if (name === 'extensions-dir') options.extensionsDir = resolve(value);
    else if (name === 'timeout') {
      options.timeoutSeconds = Number(value);
      if (!(options.timeoutSeconds > 0)) throw new Error(`--timeout expects a number of seconds, got ${value}`);
    }
  }
  if (!options.extensionTestsPath) throw new Error('--extensionTestsPath=FILE is required (the module whose run() starts the tests)');
  if (options.extensionDevelopmentPath.length === 0) throw new Error('--extensionDevelopmentPath=DIR is required (the extension under test)');
  for (const dir of options.extensionDevelopmentPath) {
    if (!existsSync(join(dir, 'package.json'))) throw new Error(`--extensionDevelopmentPath=${dir} has no package.json`);
  }
  if (options.workspace && !statSync(options.workspace, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`workspace folder ${options.workspace} does not exist`);
  }
  return options;
}

/** The workbench URL that makes code-server run the tests, as VS Code's own CLI flags would. */
function testWorkbenchUrl(baseUrl, { extensionDevelopmentPath, extensionTestsPath, workspace }) {
  const authority = new URL(baseUrl).host; // the remote authority must be the page's host:port
  const remote = (path) => `vscode-remote://${authority}${path}`;
  const payload = [
    ...extensionDevelopmentPath.map((dir) => ['extensionDevelopmentPath', remote(dir)]),
    ['extensionTestsPath', remote(extensionTestsPath)],
  ];
  const query = new URLSearchParams();
  if (workspace) query.set('folder', workspace);
  else query.set('ew', 'true'); // an empty window
  query.set('payload', JSON.stringify(payload));
  return `${baseUrl}/?${query}`;
}

// The extension host's console calls reach the page console as the workbench's own log lines do:
// console.log(format, ...args) becomes console.log('%c INFO', css, format, ...args). Both look alike,
// so the workbench's start-up chatter is left out by name.
const WORKBENCH_CHATTER = /^(Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin extensions cache|\[Service Worker\]|ChatSessionStore:)/;

async function extensionHostLine(message) {
  if (message.type() !== 'log' || !message.text().startsWith('%c INFO')) return undefined;
  const args = await Promise.all(message.args().map((arg) => arg.jsonValue().catch(() => '[unserializable]')));
  const line = format(...args.slice(2));
  return WORKBENCH_CHATTER.test(line) ? undefined : line;
}

async function main() {
  let options;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`run-in-code-server: ${error.message}`);
    process.exit(2);
  }
  const runDir = makeRunDir('integration');
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  let server;
  let browser;
  let keep = process.env.KEEP === '1';
  const cleanUp = async () => {
    await browser?.close().catch(() => {});
    server?.stop();
    if (keep) console.log(`run folder kept: ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => cleanUp().finally(() => process.exit(130)));
  }

  let exitCode;
  try {
    server = await startCodeServer({ runDir, userDataDir: options.userDataDir, extensionsDir: options.extensionsDir });
    browser = await launchBrowser(runDir);
    const page = browser.pages()[0] ?? (await browser.newPage());
    let reportExit;
    const finished = new Promise((resolveExit) => (reportExit = resolveExit));
    await page.exposeFunction('codeAutomationExit', (code) => reportExit(Number(code)));
    // Lines are formatted asynchronously; a promise chain keeps them in order and lets us drain it.
    let printed = Promise.resolve();
    page.on('console', (message) => {
      if (process.env.VERBOSE === '1') console.log(`[page ${message.type()}] ${message.text()}`);
      else printed = printed.then(() => extensionHostLine(message)).then((line) => line !== undefined && console.log(line));
    });
    await page.goto(testWorkbenchUrl(server.url, options));
    const timedOut = new Promise((resolveTimeout) => setTimeout(() => resolveTimeout('timeout'), options.timeoutSeconds * 1000).unref());
    const outcome = await Promise.race([finished, timedOut]);
    if (outcome === 'timeout') {
      const shots = join(vscodeTestDir, 'screenshots');
      mkdirSync(shots, { recursive: true });
      const shot = join(shots, `integration-timeout-${Date.now()}.png`);
      await page.screenshot({ path: shot }).catch(() => {});
      console.error(`${elapsed()} tests did not finish within ${options.timeoutSeconds} s; screenshot: ${shot}; code-server log: ${server.logFile}`);
      exitCode = 124;
      keep = true;
    } else {
      await new Promise((resolveWait) => setTimeout(resolveWait, 500)); // mocha's summary may trail the exit call
      await printed;
      console.log(`${elapsed()} extension tests finished in code-server, exit code ${outcome}`);
      exitCode = outcome;
    }
  } catch (error) {
    console.error(`run-in-code-server: ${error instanceof Error ? error.message : error}`);
    exitCode = 1;
    keep = true;
  }
  await cleanUp();
  process.exit(exitCode);
}

await main();
