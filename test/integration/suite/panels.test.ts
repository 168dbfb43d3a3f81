// The ThinkScope panel in a real VS Code: it opens beside an analysed document, draws what the host
// sends (the webview reports what it rendered), follows the editor selection and reveals steps (its
// return after a window reload: trace-panel.before-reload.ts and trace-panel.after-reload.ts).
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import { PANEL_VIEW_TYPE, type RenderReport } from '../../../extension/common/webview-protocol';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import { sampleTraceFile } from '../../unit/bundle-fixtures';
import { thinkScope, workspaceFile } from './support';

describe('ThinkScope panel', () => {
  let api: ThinkScopeApi;
  let file: TraceFile;
  let uri: vscode.Uri;
  let editor: vscode.TextEditor;
  let panel: ThinkScopePanel;

  const rendered = (predicate: (report: RenderReport) => boolean) => panel.whenRendered(predicate, 15_000);
  const selectionOf = (index: number) => {
    const step = file.steps[index];
    return new vscode.Selection(editor.document.positionAt(step.start), editor.document.positionAt(step.end));
  };

  before(async () => {
    api = await thinkScope();
    file = sampleTraceFile();
    uri = workspaceFile('panel-sample.md');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(file.source.text));
    editor = await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One });
    api.results.set(uri, file);
  });

  after(async () => {
    panel?.dispose();
    api.results.delete(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(uri);
  });

  it('opens beside the analysed document and draws one bar per step', async () => {
    panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel');
    assert.ok(panel, 'thinkscope.openPanel returned no panel');
    assert.equal(panel.panel.viewType, PANEL_VIEW_TYPE);
    const report = await rendered((r) => r.traceName === file.source.name && r.bars > 0);
    assert.equal(report.bars, file.steps.length);
    assert.equal(report.view, 'steps');
    assert.equal(report.heatmapDirection, 'seal-calibration', 'the heatmap shows the first projected direction');
    assert.equal(report.personaTurns, file.turns.length, 'the Persona view draws one point per assistant turn');
  });

  it('highlights the bars of the steps selected in the editor', async () => {
    const first = selectionOf(2);
    const last = selectionOf(3);
    editor.selection = new vscode.Selection(first.start, last.end);
    const report = await rendered((r) => r.selectedBars.length > 0);
    assert.deepEqual(report.selectedBars, [2, 3]);

    editor.selection = new vscode.Selection(selectionOf(6).start, selectionOf(6).start);
    assert.deepEqual((await rendered((r) => r.selectedBars.join() === '6')).selectedBars, [6], 'a cursor selects the step it stands in');
  });

  it('reveals a step: its text is selected in the editor and its bar highlighted', async () => {
    await panel.revealStep(5);
    const active = vscode.window.activeTextEditor;
    assert.equal(active?.document.uri.toString(), uri.toString());
    assert.deepEqual(active.selection, selectionOf(5));
    assert.equal(active.document.getText(active.selection), file.steps[5].text);
    await rendered((r) => r.selectedBars.join() === '5');
  });

  it('reveals the step a hover link names ({ uri, step })', async () => {
    await vscode.commands.executeCommand('thinkscope.openPanel', { uri: uri.toString(), step: 1 });
    assert.deepEqual(vscode.window.activeTextEditor?.selection, selectionOf(1));
  });

  it('redraws from the complete snapshot when the results change, and says so when they are cleared', async () => {
    api.results.set(uri, { ...file, steps: file.steps.slice(0, 5) });
    assert.equal((await rendered((r) => r.bars === 5)).traceName, file.source.name);
    api.results.delete(uri);
    const cleared = await rendered((r) => r.traceName === null);
    assert.equal(cleared.bars, 0);
    api.results.set(uri, file);
    await rendered((r) => r.bars === file.steps.length);
  });

  it('rejects a malformed argument with a clear message', async () => {
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('thinkscope.openPanel', { view: 'charts' })), /view must be one of steps, persona, steering/);
  });
});
