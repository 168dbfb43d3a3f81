// What the integration suites share: the extension's API, the fixtures runTest.ts made (the bundled
// trained reasoner, a SEAL and a TrueThinking direction made on it, and a tiny random model for the crash
// test), the reasoner's documented guarantees, and waiting for something the extension does later.
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
export function fixture(name: 'THINKSCOPE_TEST_MODEL' | 'THINKSCOPE_TEST_RANDOM_MODEL' | 'THINKSCOPE_TEST_DIRECTION' | 'THINKSCOPE_TEST_TRUETHINKING'): string {
  const path = process.env[name];
  assert.ok(path, `${name} is not set: run the suite through test/integration/runTest.ts`);
  return path;
}

/** Loads the trained reasoner (or, for the crash test, the random model) through "Select Model…", as a user would. */
export async function useModel(api: ThinkScopeApi, which: 'THINKSCOPE_TEST_MODEL' | 'THINKSCOPE_TEST_RANDOM_MODEL' = 'THINKSCOPE_TEST_MODEL'): Promise<void> {
  if (api.engine.state.model?.path === fixture(which)) return;
  const loaded = await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(fixture(which)));
  assert.equal(loaded, fixture(which));
}

/**
 * What the reasoner's model card guarantees on held-out traces (media/models/thinkscope-reasoner): true
 * steps score TTS ≥ 0.9, decorative checks ≤ 0.05. A retrained reasoner keeps these, not the exact numbers.
 */
export const TRUE_STEP_TTS = 0.9;
export const CHECK_TTS = 0.05;

/** The reasoner's steps by the templates its generator writes (tools/train-reasoner/problems.ts). */
export function stepKind(text: string): 'check' | 'transition' | 'true' | 'goal' {
  if (/^(Wait\b|Let me verify)/.test(text)) return 'check';
  if (/^(Alternatively\b|Let me try another way)/.test(text)) return 'transition';
  return /=/.test(text) ? 'true' : 'goal';
}

/** What the *.before-reload.ts suites leave open in their panels, and the *.after-reload.ts suites expect back. */
export const RESTORED_PRUNE_FOLDER = 'restore-batch';
export const RESTORED_TRACE = 'restore-sample.md';
/** A freshly reloaded window starts its webviews and the extension at once; on a loaded machine that takes a while. */
export const RESTORE_TIMEOUT = 30_000;

/** The labels of the open webview tabs, in every group. */
export function webviewTabs(): string[] {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => tab.input instanceof vscode.TabInputWebview).map((tab) => tab.label);
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
