// Finding one's way through an analysed trace: the Steps view lists the document's steps with class
// and TTS and reveals one on click, the Outline has a symbol per step, and Next / Previous Step walk
// the steps from the cursor (with their keybindings).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { sampleTraceFile } from '../../unit/bundle-fixtures';
import { thinkScope, waitFor, workspaceFile } from './support';

describe('ThinkScope Steps view, Outline and step navigation', () => {
  let api: ThinkScopeApi;
  let file: TraceFile;
  let uri: vscode.Uri;
  let editor: vscode.TextEditor;

  const selected = () => {
    const e = vscode.window.activeTextEditor!;
    return e.document.getText(e.selection);
  };

  before(async () => {
    api = await thinkScope();
    file = sampleTraceFile();
    uri = workspaceFile('steps-view-sample.md');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(file.source.text));
    editor = await vscode.window.showTextDocument(uri);
    api.results.set(uri, file);
  });

  after(async () => {
    api.results.delete(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(uri);
  });

  it('lists every step of the document with its class and TTS, and a click reveals it', async () => {
    const items = api.stepItems(uri);
    assert.equal(items.length, file.steps.length);
    file.steps.forEach((step, i) => {
      assert.ok(String(items[i].label).startsWith(`#${step.index} `), `item ${i}: ${items[i].label}`);
      assert.ok(String(items[i].description).startsWith(step.sealClass ?? 'unclassified'), `item ${i}: ${items[i].description}`);
    });
    const scored = file.steps.find((s) => s.tts !== null && s.perturbable)!;
    assert.ok(String(items[scored.index].description).includes(`TTS ${scored.tts!.toFixed(2)}`));

    // Clicking an item runs its command, which selects the step in the editor.
    await vscode.commands.executeCommand('workbench.action.focusSideBar');
    const target = file.steps[4];
    const command = items[target.index].command!;
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    await waitFor('the step to be selected', () => selected() === target.text);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());
  });

  it('puts a symbol per step in the Outline', async () => {
    const symbols = await waitFor('the step symbols', async () => {
      const found = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', uri);
      return found?.length === file.steps.length && found;
    });
    const reflection = file.steps.find((s) => s.sealClass === 'reflection')!;
    const symbol = symbols[reflection.index];
    assert.ok(symbol.name.startsWith(`#${reflection.index} `));
    assert.ok(symbol.detail.startsWith('reflection'));
    assert.equal(editor.document.getText(symbol.range), reflection.text);
  });

  it('walks to the next and the previous step from the cursor, wrapping at the ends', async () => {
    editor = await vscode.window.showTextDocument(uri);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    assert.equal(await vscode.commands.executeCommand('thinkscope.nextStep'), 0);
    assert.equal(selected(), file.steps[0].text);
    assert.equal(await vscode.commands.executeCommand('thinkscope.nextStep'), 1);
    assert.equal(selected(), file.steps[1].text);
    assert.equal(await vscode.commands.executeCommand('thinkscope.previousStep'), 0);
    assert.equal(await vscode.commands.executeCommand('thinkscope.previousStep'), file.steps.at(-1)!.index, 'previous from the first step wraps to the last');
    assert.equal(await vscode.commands.executeCommand('thinkscope.nextStep'), 0, 'next from the last step wraps to the first');

    // The keybindings users press, like F8 in Problems.
    const manifest = JSON.parse(readFileSync(join(vscode.extensions.getExtension('thinkscope.thinkscope')!.extensionPath, 'package.json'), 'utf8'));
    const keys = Object.fromEntries(manifest.contributes.keybindings.map((k: { command: string; key: string }) => [k.command, k.key]));
    assert.equal(keys['thinkscope.nextStep'], 'alt+f9');
    assert.equal(keys['thinkscope.previousStep'], 'shift+alt+f9');
  });
});
