// What the integration suites share: the extension's API, the fixtures runTest.ts made (a tiny
// model, and a SEAL and a TrueThinking direction made on it), and waiting for something the extension does later.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';

export const EXTENSION_ID = 'thinkscope.thinkscope';

export async function thinkScope(): Promise<ThinkScopeApi> {
  const extension = vscode.extensions.getExtension<ThinkScopeApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed in this VS Code`);
  return extension.activate();
}

/** A fixture folder from runTest.ts. */
export function fixture(name: 'THINKSCOPE_TEST_MODEL' | 'THINKSCOPE_TEST_DIRECTION' | 'THINKSCOPE_TEST_TRUETHINKING'): string {
  const path = process.env[name];
  assert.ok(path, `${name} is not set: run the suite through test/integration/runTest.ts`);
  return path;
}

/** Loads the tiny model through "Select Model…", as a user would. */
export async function useTinyModel(api: ThinkScopeApi): Promise<void> {
  if (api.engine.state.model?.path === fixture('THINKSCOPE_TEST_MODEL')) return;
  const loaded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(fixture('THINKSCOPE_TEST_MODEL')));
  assert.equal(loaded, fixture('THINKSCOPE_TEST_MODEL'));
}

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need a workspace folder (runTest.ts opens one)');
  return vscode.Uri.joinPath(folder.uri, name);
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits for a command that asks with quick picks, pressing Enter on each one it shows (the first,
 * focused item), as a user accepting the proposed choice would.
 */
export async function acceptingEachPick<T>(run: Thenable<T>, timeoutMs = 60_000): Promise<T> {
  let settled = false;
  const result = Promise.resolve(run).finally(() => {
    settled = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!settled && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  return result;
}

/** The text of a hover's contents, joined. */
export function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((hover) => hover.contents)
    .map((content) => (typeof content === 'string' ? content : content.value))
    .join('\n');
}
