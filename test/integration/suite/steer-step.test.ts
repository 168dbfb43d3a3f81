// Steer this step: a step of the analysed sample pushed along or against a TrueThinking direction
// mined from the trained reasoner's calibration traces; the scores before and after come back, stay in the step's hover, and the
// direction is offered by the Steering panel too.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { StepAnnotation, TraceFile } from '../../../extension/common/bundle/trace-file';
import type { StepScores } from '../../../extension/common/protocol';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { formatScore } from '../../../extension/vscode/hover';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import type { SteeredStepResult } from '../../../extension/vscode/steered-steps';
import { fixture, hoverText, thinkScope, useModel, workspaceFile } from './support';

const SCORES: (keyof StepScores)[] = ['s11', 's01', 's10', 's00', 'tts'];

describe('ThinkScope: Steer this step', () => {
  let api: ThinkScopeApi;
  let document: vscode.TextDocument;
  let step: StepAnnotation;

  const hoverOf = async (target: StepAnnotation) =>
    hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, document.positionAt((target.start + target.end) >> 1)));

  before(async () => {
    api = await thinkScope();
    await useModel(api);
    document = await vscode.workspace.openTextDocument(workspaceFile('reasoner-trace.md'));
    await vscode.window.showTextDocument(document);
    const analysed = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: document.uri, tts: true, seal: false, persona: false });
    assert.ok(analysed, 'the analysis returned no trace');
    step = analysed.steps.filter((s) => s.perturbable)[1];
    assert.ok(step, 'the sample has no second perturbable step');
  });

  after(async () => {
    api.results.delete(document.uri);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('scores the step with and without the push and shows both in its hover', async () => {
    const ignored = await vscode.commands.executeCommand<SteeredStepResult | undefined>('thinkscope.steerStep', {
      uri: document.uri.toString(),
      step: step.index,
      direction: fixture('THINKSCOPE_TEST_TRUETHINKING'),
      scale: -2,
    });
    assert.ok(ignored, 'Steer this step returned nothing');
    assert.equal(ignored.step, step.index);
    assert.equal(ignored.scale, -2);
    assert.ok(Number.isInteger(ignored.layer) && ignored.layer >= 0 && ignored.layer < api.engine.state.model!.numLayers, `layer ${ignored.layer}`);
    for (const key of SCORES) {
      assert.ok(Number.isFinite(ignored.before[key]) && Number.isFinite(ignored.after[key]), `${key}: ${ignored.before[key]} → ${ignored.after[key]}`);
    }
    // The unsteered scores are the analysis's own: the same model, text and cue.
    assert.ok(Math.abs(ignored.before.s11 - step.s11!) <= 1e-3 * Math.abs(step.s11!), `S11 ${ignored.before.s11} vs the analysis's ${step.s11}`);
    assert.ok(SCORES.some((key) => ignored.after[key] !== ignored.before[key]), 'the push changed no score');

    const used = await vscode.commands.executeCommand<SteeredStepResult | undefined>('thinkscope.steerStep', {
      uri: document.uri.toString(),
      step: step.index,
      direction: fixture('THINKSCOPE_TEST_TRUETHINKING'),
      scale: 2,
    });
    assert.ok(used);

    const text = await hoverOf(step);
    assert.match(text, /\*\*Steered on this step\*\*/);
    assert.ok(text.includes(`| not steered | ${SCORES.map((key) => formatScore(ignored.before[key])).join(' | ')} |`), `the hover lacks the unsteered row:\n${text}`);
    assert.ok(text.includes(`| −2 (ignore it), layer ${ignored.layer} | ${SCORES.map((key) => formatScore(ignored.after[key])).join(' | ')} |`), `the hover lacks the −2 row:\n${text}`);
    assert.ok(text.includes(`| +2 (use it), layer ${used.layer} | ${SCORES.map((key) => formatScore(used.after[key])).join(' | ')} |`), `the hover lacks the +2 row:\n${text}`);
    const other = api.results.get(document.uri)!.steps.find((s) => s.index !== step.index && s.perturbable)!;
    assert.doesNotMatch(await hoverOf(other), /Steered on this step/, 'another step shows the result');
  });

  it('offers the direction it used in the Steering panel, from the one list of saved directions', async () => {
    const path = fixture('THINKSCOPE_TEST_TRUETHINKING');
    assert.ok(api.directions.all().some((d) => d.path === path && d.method === 'truethinking'), 'the direction is not saved');
    const panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { view: 'steering' });
    try {
      const report = await panel.whenRendered((r) => r.view === 'steering' && r.sliders === api.directions.all().length, 15_000);
      assert.ok(report.sliders >= 1);
    } finally {
      panel.dispose();
    }
  });

  it('does not list again a direction the user removed, when a command merely uses it', async () => {
    const path = fixture('THINKSCOPE_TEST_TRUETHINKING');
    await api.directions.remove(path);
    const result = await vscode.commands.executeCommand<SteeredStepResult | undefined>('thinkscope.steerStep', { uri: document.uri.toString(), step: step.index, direction: path, scale: 1 });
    assert.ok(result);
    assert.equal(api.directions.all().some((d) => d.path === path), false);
  });

  it('drops the results with the annotations', async () => {
    await vscode.commands.executeCommand('thinkscope.clearAnnotations', document.uri);
    assert.equal(api.results.get(document.uri), undefined);
    assert.ok(await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: document.uri, tts: true, seal: false, persona: false }));
    assert.doesNotMatch(await hoverOf(step), /Steered on this step/);
  });
});
