// The tests module VS Code loads into the extension host: runs every *.test.js next to it with mocha.
// Suites that need a window reload come in pairs: *.before-reload.js runs after all the others and
// leaves the window as a user would leave it; the window is then reloaded, which runs this module
// again, and *.after-reload.js checks what came back. A marker file in the workspace carries the
// first half's failures across the reload.
import Mocha from 'mocha';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

function reloadMarker(): string {
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
    .sort()
    .map((name) => join(__dirname, name));
}

/** Runs the files with a fresh mocha; resolves with the number of failures. */
function runMocha(files: string[]): Promise<number> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000 });
  for (const file of files) mocha.addFile(file);
  return new Promise((resolve) => mocha.run(resolve));
}

function outcome(failures: number): Promise<void> {
  return failures > 0 ? Promise.reject(new Error(`${failures} integration test(s) failed`)) : Promise.resolve();
}

export async function run(): Promise<void> {
  const marker = reloadMarker();
  if (existsSync(marker)) {
    const { failures } = JSON.parse(readFileSync(marker, 'utf8')) as { failures: number };
    rmSync(marker);
    return outcome(failures + (await runMocha(suites('.after-reload.js'))));
  }
  let failures = await runMocha(suites('.test.js'));
  const beforeReload = suites('.before-reload.js');
  if (beforeReload.length === 0) return outcome(failures);
  failures += await runMocha(beforeReload);
  writeFileSync(marker, JSON.stringify({ failures }));
  await vscode.commands.executeCommand('workbench.action.reloadWindow');
  // The reload ends this extension host; the run that reports is the one after it.
  return new Promise<void>(() => undefined);
}
