// The tests module VS Code loads into the extension host: runs every *.test.js next to it with mocha.
// Suites that need a window reload come in pairs, NAME.before-reload.js and NAME.after-reload.js: after
// all the others, each pair in turn leaves the window as a user would leave it, the window is reloaded
// (which runs this module again), and the pair's second half checks what came back. One pair per
// reload: in code-server, two webviews starting at once after a reload race for the webview service
// worker, and one may find the previous page's and fail to load its resources offline. A marker file in
// the workspace carries the failures so far and the pair under way across each reload.
import Mocha from 'mocha';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const BEFORE = '.before-reload.js';
const AFTER = '.after-reload.js';

interface ReloadMarker {
  failures: number;
  /** The pair whose second half runs after this reload. */
  pair: string;
}

function markerPath(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need a workspace folder (runTest.ts opens one)');
  return join(folder.uri.fsPath, '.thinkscope-tests-reloaded.json');
}

/** The suite files with this ending: THINKSCOPE_TEST_SUITES=prune-folder,steps-view keeps only the names containing one of these. */
function suites(ending: string): string[] {
  const only = process.env.THINKSCOPE_TEST_SUITES?.split(',').filter(Boolean) ?? [];
  const chosen = (name: string) => only.length === 0 || only.some((part) => name.includes(part));
  return readdirSync(__dirname)
    .filter((name) => name.endsWith(ending) && chosen(name))
    .sort();
}

/** Runs the files with a fresh mocha; resolves with the number of failures. */
function runMocha(names: string[]): Promise<number> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000 });
  for (const name of names) mocha.addFile(join(__dirname, name));
  return new Promise((resolve) => mocha.run(resolve));
}

export async function run(): Promise<void> {
  const path = markerPath();
  const pairs = suites(BEFORE).map((name) => name.slice(0, -BEFORE.length));
  let failures: number;
  let next: number;
  if (existsSync(path)) {
    const marker = JSON.parse(readFileSync(path, 'utf8')) as ReloadMarker;
    rmSync(path);
    failures = marker.failures + (await runMocha([`${marker.pair}${AFTER}`]));
    next = pairs.indexOf(marker.pair) + 1;
  } else {
    failures = await runMocha(suites('.test.js'));
    next = 0;
  }
  if (next < pairs.length) {
    const pair = pairs[next];
    // The pair's first half opens what must come back, in a window with nothing else open.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    failures += await runMocha([`${pair}${BEFORE}`]);
    const marker: ReloadMarker = { failures, pair };
    writeFileSync(path, JSON.stringify(marker));
    await vscode.commands.executeCommand('workbench.action.reloadWindow');
    // The reload ends this extension host; the run that reports is the last one after it.
    return new Promise<void>(() => undefined);
  }
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
