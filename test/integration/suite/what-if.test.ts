// Live counterfactuals, pruning and the logit lens in a real VS Code, on the tiny model: an edit of an
// analysed step brings the answer's readout (badge and panel) without the editor waiting; Remove this
// step answers the same question without touching the text; pruning writes the pruned trace and its trace
// file and opens the diff; the logit lens fills the heatmap and the hover.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { LENS_FIRST_TOKEN, LENS_SERIES } from '../../../extension/common/analysis/logit-lens';
import type { StepAnnotation, TraceFile } from '../../../extension/common/bundle/trace-file';
import { parseTraceFile } from '../../../extension/common/bundle/trace-load';
import type { Readout } from '../../../extension/vscode/counterfactuals';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import type { PruneOutcome } from '../../../extension/vscode/prune-command';
import { hoverText, thinkScope, useTinyModel, waitFor, workspaceFile } from './support';

describe('ThinkScope: what if, pruning and the logit lens', () => {
  let api: ThinkScopeApi;
  let uri: vscode.Uri;
  let document: vscode.TextDocument;
  let analysed: TraceFile;
  let panel: ThinkScopePanel | undefined;

  before(async () => {
    api = await thinkScope();
    await useTinyModel(api);
    uri = workspaceFile('what-if-trace.md');
    await vscode.workspace.fs.copy(workspaceFile('sample-trace.md'), uri, { overwrite: true });
    document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, tts: true, seal: true, persona: false, lens: true });
    assert.ok(file, 'the analysis returned no trace');
    analysed = file;
  });

  after(async () => {
    panel?.dispose();
    api.results.delete(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const numbered = () => analysed.steps.find((s) => s.perturbable && /\b8\b/.test(s.text) && s.index > 2) as StepAnnotation;

  it('fills the layer × step heatmap and the hover from the logit lens', async () => {
    const layers = api.engine.state.model!.numLayers;
    for (const step of analysed.steps) {
      for (const series of LENS_SERIES) {
        const values = step.projections[series];
        assert.equal(values?.length, layers, `step ${step.index} has ${series} at every layer`);
        assert.ok(values.every((p) => p > 0 && p <= 1), `step ${step.index}: ${series} are probabilities`);
      }
    }
    panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { uri: uri.toString(), view: 'steps' });
    const report = await panel.whenRendered((r) => r.heatmapDirection !== null && r.traceName !== null, 15_000);
    assert.ok(LENS_SERIES.includes(report.heatmapDirection!) || analysed.steps[0].projections[report.heatmapDirection!] !== undefined, `heatmap shows ${report.heatmapDirection}`);
    assert.ok(Object.keys(analysed.steps[0].projections).includes(LENS_FIRST_TOKEN));
    const step = numbered();
    const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, document.positionAt((step.start + step.end) >> 1)));
    assert.match(hover, /Logit lens: the answer's first token is (readable from layer \d+|not readable at any layer) after this step/);
    assert.match(hover, /the answer (becomes readable at layer \d+ after step \d+|is not readable at any layer after any step)/);
    assert.match(hover, /Remove this step/);
  });

  it('reads the answer again after an edit of a step, on the step and in the panel, the latest edit winning', async () => {
    const step = numbered();
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const at = step.start + step.text.search(/\b8\b/);
    // Two quick edits: the first one's computation is cancelled or superseded by the second's.
    await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(at), document.positionAt(at + 1)), '7'));
    await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(at), document.positionAt(at + 1)), '9'));
    const text = document.getText();
    const readout = await waitFor<Readout>('the readout of the edit', () => {
      const latest = api.counterfactuals.readout(uri);
      return latest?.documentText === text ? latest : undefined;
    }, 60_000);
    assert.equal(readout.kind, 'edit');
    assert.equal(readout.result.step?.index, step.index);
    assert.equal(text.slice(readout.anchor!.start, readout.anchor!.end), step.text.replace(/\b8\b/, '9'));
    assert.ok(readout.result.recomputed < readout.result.tokens.after, `only the tokens after the edit are recomputed (${readout.result.recomputed} of ${readout.result.tokens.after})`);
    assert.match(readout.line, /^S [\d.e+-]+ → [\d.e+-]+/);
    assert.ok(readout.result.before.confidence > 0 && readout.result.after.confidence > 0);
    panel ??= await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { uri: uri.toString(), view: 'steps' });
    const report = await panel.whenRendered((r) => r.whatIf !== null && r.whatIf.startsWith('edited: S '), 15_000);
    assert.ok(report.whatIf!.includes(readout.line));
    // Undoing the edit brings the analysed text back: no readout is left.
    await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(at), document.positionAt(at + 1)), '8'));
    await waitFor('the readout to go', () => api.counterfactuals.readout(uri) === undefined, 10_000);
  });

  it('Remove this step answers without touching the text', async () => {
    const fresh = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, tts: true, seal: false, persona: false });
    assert.ok(fresh);
    analysed = fresh;
    const before = document.getText();
    const step = numbered();
    const readout = await vscode.commands.executeCommand<Readout | undefined>('thinkscope.removeStep', { uri: uri.toString(), step: step.index });
    assert.ok(readout, 'no readout');
    assert.equal(readout.kind, 'remove');
    assert.deepEqual(readout.anchor, { start: step.start, end: step.end });
    assert.equal(document.getText(), before, 'the document is unchanged');
    assert.ok(readout.result.tokens.after < readout.result.tokens.before);
  });

  it('prunes the lowest-TTS half: the pruned trace and its trace file beside the original, and a diff', async () => {
    const outcome = await vscode.commands.executeCommand<PruneOutcome | undefined>('thinkscope.pruneTrace', { uri: uri.toString(), rule: { kind: 'fraction', value: 0.5 } });
    assert.ok(outcome, 'pruning returned nothing');
    const scored = analysed.steps.filter((s) => s.tts !== null).length;
    assert.equal(outcome.record.removed.length, Math.floor(scored / 2));
    const pruned = new TextDecoder().decode(await vscode.workspace.fs.readFile(outcome.prunedUri));
    assert.equal(pruned, outcome.text);
    for (const removed of outcome.record.removed) assert.ok(!pruned.includes(removed.text), `step ${removed.index} is gone`);
    assert.ok(pruned.length < document.getText().length);
    const traceFile = parseTraceFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(outcome.traceFileUri)));
    assert.equal(traceFile.source.text, pruned);
    assert.deepEqual(traceFile.pruning?.removed.map((r) => r.index), outcome.record.removed.map((r) => r.index));
    assert.ok(traceFile.pruning!.tokens.after < traceFile.pruning!.tokens.before);
    const diff = await waitFor('the diff editor', () =>
      vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .find((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === outcome.prunedUri.toString()),
    );
    assert.equal((diff.input as vscode.TabInputTextDiff).original.toString(), uri.toString());
  });
});
