// Live counterfactuals, pruning and the logit lens in a real VS Code, on the trained reasoner and its
// what-if sample (a held-out trace that ends in the true step stating the answer, with a decorative check
// before it): editing the true step's number moves the answer, editing the check does not (badge and
// panel, the editor never waiting); Remove this step answers without touching the text; pruning the
// decorative checks keeps the answer's confidence and writes the pruned trace, its trace file and the
// diff; the logit lens fills the heatmap and the hover, its last layer being the model's own S.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { LENS_ANSWER, LENS_FIRST_TOKEN, LENS_SERIES } from '../../../extension/common/analysis/logit-lens';
import type { StepAnnotation, TraceFile } from '../../../extension/common/bundle/trace-file';
import { parseTraceFile } from '../../../extension/common/bundle/trace-load';
import type { Readout } from '../../../extension/vscode/counterfactuals';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import type { PruneOutcome } from '../../../extension/vscode/prune-command';
import { CHECK_TTS, hoverText, stepKind, thinkScope, TRUE_STEP_TTS, useModel, waitFor, workspaceFile } from './support';

describe('ThinkScope: what if, pruning and the logit lens', () => {
  let api: ThinkScopeApi;
  let uri: vscode.Uri;
  let document: vscode.TextDocument;
  let analysed: TraceFile;
  let panel: ThinkScopePanel | undefined;

  before(async () => {
    api = await thinkScope();
    await useModel(api);
    uri = workspaceFile('what-if-trace.md');
    await vscode.workspace.fs.copy(workspaceFile('reasoner-whatif-trace.md'), uri, { overwrite: true });
    document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, tts: true, seal: true, persona: false, lens: true });
    assert.ok(file, 'the analysis returned no trace');
    analysed = file;
    assert.equal(stepKind(analysed.steps.at(-1)!.text), 'true', 'the what-if sample ends in its true step');
    assert.equal(analysed.answerCheck?.agrees, true, 'the model answers the trace’s answer');
  });

  after(async () => {
    panel?.dispose();
    api.results.delete(uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  /** The step that states the answer last: the answer depends on it. */
  const trueStep = () => analysed.steps.at(-1) as StepAnnotation;
  /** A decorative check: its numbers never feed the answer. */
  const check = () => analysed.steps.find((s) => stepKind(s.text) === 'check' && s.perturbable) as StepAnnotation;

  /** Replaces the last digit of `step`'s last number in the document, and waits for the readout of the latest edit. */
  async function editLastDigit(step: StepAnnotation, digits: string[]): Promise<Readout> {
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const at = step.start + step.text.search(/\d(?=\D*$)/);
    for (const digit of digits) await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(at), document.positionAt(at + 1)), digit));
    const text = document.getText();
    return waitFor<Readout>('the readout of the edit', () => {
      const latest = api.counterfactuals.readout(uri);
      return latest?.documentText === text ? latest : undefined;
    }, 60_000);
  }

  async function undo(step: StepAnnotation): Promise<void> {
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const at = step.start + step.text.search(/\d(?=\D*$)/);
    const original = step.text[step.text.search(/\d(?=\D*$)/)];
    await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(at), document.positionAt(at + 1)), original));
    await waitFor('the readout to go', () => api.counterfactuals.readout(uri) === undefined, 10_000);
  }

  const otherDigit = (step: StepAnnotation, by: number) => String((Number(step.text[step.text.search(/\d(?=\D*$)/)]) + by) % 10);

  it('scores the true steps high and the decorative checks low', () => {
    const scored = analysed.steps.filter((s) => s.tts !== null);
    const trueSteps = scored.filter((s) => stepKind(s.text) === 'true');
    const checks = scored.filter((s) => stepKind(s.text) === 'check');
    assert.ok(trueSteps.length >= 2 && checks.length >= 1, 'the sample has true steps and a check');
    for (const step of trueSteps) assert.ok(step.tts! >= TRUE_STEP_TTS, `true step ${step.index} (${step.text}): TTS ${step.tts}`);
    for (const step of checks) assert.ok(step.tts! <= CHECK_TTS, `check ${step.index} (${step.text}): TTS ${step.tts}`);
  });

  it('fills the layer × step heatmap and the hover from the logit lens; its last layer is the model’s own S', async () => {
    const layers = api.engine.state.model!.numLayers;
    for (const step of analysed.steps) {
      for (const series of LENS_SERIES) {
        const values = step.projections[series];
        assert.equal(values?.length, layers, `step ${step.index} has ${series} at every layer`);
        assert.ok(values.every((p) => p > 0 && p <= 1), `step ${step.index}: ${series} are probabilities`);
      }
      // Read through the final norm and the unembedding, the last layer is the model's output: S after the step.
      const last = step.projections[LENS_ANSWER].at(-1)!;
      if (step.s11 !== null) assert.ok(Math.abs(last - step.s11) <= 1e-3, `step ${step.index}: lens ${last} vs S ${step.s11}`);
    }
    panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { uri: uri.toString(), view: 'steps' });
    const report = await panel.whenRendered((r) => r.heatmapDirection !== null && r.traceName !== null, 15_000);
    assert.ok(LENS_SERIES.includes(report.heatmapDirection!) || analysed.steps[0].projections[report.heatmapDirection!] !== undefined, `heatmap shows ${report.heatmapDirection}`);
    assert.ok(Object.keys(analysed.steps[0].projections).includes(LENS_FIRST_TOKEN));
    const step = trueStep();
    const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, document.positionAt((step.start + step.end) >> 1)));
    // After the step that states it, the answer is the model's top token at the last layer at least.
    assert.match(hover, /Logit lens: the answer's first token is readable from layer \d+ after this step/);
    assert.match(hover, /the answer becomes readable at layer \d+ after step \d+/);
    assert.match(hover, /Remove this step/);
  });

  it("editing the true step's number moves the answer, on the step and in the panel, the latest edit winning", async () => {
    const step = trueStep();
    // Two quick edits: the first one's computation is cancelled or superseded by the second's.
    const readout = await editLastDigit(step, [otherDigit(step, 1), otherDigit(step, 3)]);
    assert.equal(readout.kind, 'edit');
    assert.equal(readout.result.step?.index, step.index);
    const edited = step.text.replace(/\d(?=\D*$)/, otherDigit(step, 3));
    assert.equal(readout.documentText.slice(readout.anchor!.start, readout.anchor!.end), edited);
    assert.ok(readout.result.recomputed < readout.result.tokens.after, `only the tokens after the edit are recomputed (${readout.result.recomputed} of ${readout.result.tokens.after})`);
    const { before, after } = readout.result;
    assert.equal(before.greedy, analysed.answerCheck!.traceAnswer);
    assert.ok(before.confidence >= TRUE_STEP_TTS, `S of the intact trace ${before.confidence}`);
    assert.notEqual(after.greedy, before.greedy, 'the model still answers the old answer');
    assert.ok(after.confidence <= CHECK_TTS, `S ${before.confidence} → ${after.confidence}`);
    assert.match(readout.line, /^S [\d.e+-]+ → [\d.e+-]+ · answer \S+ → \S+/);
    panel ??= await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { uri: uri.toString(), view: 'steps' });
    const report = await panel.whenRendered((r) => r.whatIf !== null && r.whatIf.startsWith('edited: S '), 15_000);
    assert.ok(report.whatIf!.includes(readout.line));
    // Undoing the edit brings the analysed text back: no readout is left.
    await undo(step);
  });

  it("editing a decorative check's number does not move the answer", async () => {
    const step = check();
    const readout = await editLastDigit(step, [otherDigit(step, 2)]);
    assert.equal(readout.result.step?.index, step.index);
    const { before, after } = readout.result;
    assert.equal(after.greedy, before.greedy, 'the check moved the answer');
    assert.ok(Math.abs(after.confidence - before.confidence) <= CHECK_TTS, `S ${before.confidence} → ${after.confidence}`);
    await undo(step);
  });

  it('Remove this step answers without touching the text: removing the check keeps the answer', async () => {
    const fresh = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, tts: true, seal: false, persona: false });
    assert.ok(fresh);
    analysed = fresh;
    const before = document.getText();
    const step = check();
    const readout = await vscode.commands.executeCommand<Readout | undefined>('thinkscope.removeStep', { uri: uri.toString(), step: step.index });
    assert.ok(readout, 'no readout');
    assert.equal(readout.kind, 'remove');
    assert.deepEqual(readout.anchor, { start: step.start, end: step.end });
    assert.equal(document.getText(), before, 'the document is unchanged');
    assert.ok(readout.result.tokens.after < readout.result.tokens.before);
    assert.equal(readout.result.after.greedy, readout.result.before.greedy);
    assert.ok(readout.result.after.confidence >= readout.result.before.confidence - CHECK_TTS, `S ${readout.result.before.confidence} → ${readout.result.after.confidence}`);
  });

  it("prunes the decorative checks (TTS below the checks' bound) and keeps the answer's confidence; the pruned trace, its trace file and a diff", async () => {
    const outcome = await vscode.commands.executeCommand<PruneOutcome | undefined>('thinkscope.pruneTrace', { uri: uri.toString(), rule: { kind: 'threshold', value: CHECK_TTS } });
    assert.ok(outcome, 'pruning returned nothing');
    const { record } = outcome;
    const checks = analysed.steps.filter((s) => stepKind(s.text) === 'check' && s.tts !== null).map((s) => s.index);
    assert.deepEqual(record.removed.map((r) => r.index), checks, `removed ${JSON.stringify(record.removed.map((r) => r.text))}`);
    assert.equal(record.after.greedy, record.answer);
    assert.ok(record.after.confidence >= record.before.confidence - CHECK_TTS, `S ${record.before.confidence} → ${record.after.confidence}`);
    const pruned = new TextDecoder().decode(await vscode.workspace.fs.readFile(outcome.prunedUri));
    assert.equal(pruned, outcome.text);
    for (const removed of record.removed) assert.ok(!pruned.includes(removed.text), `step ${removed.index} is gone`);
    assert.ok(pruned.length < document.getText().length);
    const traceFile = parseTraceFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(outcome.traceFileUri)));
    assert.equal(traceFile.source.text, pruned);
    assert.deepEqual(traceFile.pruning?.removed.map((r) => r.index), record.removed.map((r) => r.index));
    assert.ok(traceFile.pruning!.tokens.after < traceFile.pruning!.tokens.before);
    const diff = await waitFor('the diff editor', () =>
      vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .find((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === outcome.prunedUri.toString()),
    );
    assert.equal((diff.input as vscode.TabInputTextDiff).original.toString(), uri.toString());
  });
});
