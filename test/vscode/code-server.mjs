// Starts a throwaway code-server (a real VS Code: server, Node extension host and web workbench)
// and a headless Chromium to look at it. Used by the integration-test shim and the e2e script.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath, codeServerBin, isolatedEnv, vscodeTestDir } from './paths.mjs';

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.openRepositoryInParentFolders': 'never', // run folders sit inside this repository
};

/** A loopback port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A fresh folder under .vscode-test/runs/ for one run's user data, extensions, logs and XDG state. */
export function makeRunDir(prefix) {
  const runs = join(vscodeTestDir, 'runs');
  mkdirSync(runs, { recursive: true });
  return mkdtempSync(join(runs, `${prefix}-`));
}

async function waitForHealth(url, server, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with code ${server.exitCode} before it was ready; see ${logFile}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs / 1000} s; see ${logFile}`);
}

/**
 * Starts code-server on a free loopback port with its own user-data and extensions folders.
 * `env` reaches the extension host. Returns the base URL and a `stop()` that ends the server and
 * everything it started.
 */
export async function startCodeServer({ runDir, userDataDir = join(runDir, 'user-data'), extensionsDir = join(runDir, 'extensions'), env = {} }) {
  if (!existsSync(codeServerBin)) {
    throw new Error(`code-server is not installed at ${codeServerBin}; run \`node test/vscode/install.mjs\` first`);
  }
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settingsFile = join(userDataDir, 'User', 'settings.json');
  if (!existsSync(settingsFile)) writeFileSync(settingsFile, JSON.stringify(USER_SETTINGS, null, 2));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(runDir, 'code-server.log');
  const log = openSync(logFile, 'a');
  const args = [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
  ];
  // Its own process group, so stop() ends the server and the extension hosts it forked.
  const server = spawn(codeServerBin, args, { env: { ...isolatedEnv(runDir), ...env }, stdio: ['ignore', log, log], detached: true });
  const stop = () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    await waitForHealth(url, server, logFile, 30_000);
  } catch (error) {
    stop();
    throw error;
  }
  return { url, port, logFile, stop };
}

/** Installs an extension (a .vsix file) into the extensions folder code-server will use. */
export function installExtension({ runDir, userDataDir = join(runDir, 'user-data'), extensionsDir = join(runDir, 'extensions'), vsix }) {
  return new Promise((resolve, reject) => {
    const child = spawn(codeServerBin, ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix], {
      env: isolatedEnv(runDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`installing ${vsix} failed (exit ${code}):\n${output}`))));
  });
}

/** Headless Debian Chromium with a fresh profile; Playwright's own browser downloads are not used. */
export async function launchBrowser(runDir, viewport = { width: 1600, height: 1000 }) {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}; run \`node test/vscode/install.mjs\` first`);
  const profile = join(runDir, 'chromium-profile');
  rmSync(profile, { recursive: true, force: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
}
