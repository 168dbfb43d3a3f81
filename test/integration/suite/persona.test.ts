// Persona drift and the SEAL latent score from VS Code, as a user runs them: the first persona
// analysis offers to build an Assistant Axis (none exists yet), the choice is remembered for the
// workspace, and the layer × step heatmap of the panel shows every step's projection at every layer.
// A trace longer than the model's context leaves nothing that looks analysed.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import { acceptingEachPick, fixture, thinkScope, useModel, waitFor, workspaceFile } from './support';

describe('ThinkScope: persona drift, SEAL latent score and the heatmap', () => {
  let api: ThinkScopeApi;
  let panel: ThinkScopePanel | undefined;

  before(async () => {
    api = await thinkScope();
    await useModel(api);
  });

  after(async () => {
    panel?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('offers to build an Assistant Axis on the first persona analysis, then projects every assistant turn', async function () {
    // The quick axis still generates every default-assistant reply at full length (the floor's population).
    this.timeout(180_000);
    assert.deepEqual(api.directions.all().filter((d) => d.method === 'assistant-axis'), [], 'a fresh workspace has no axis yet');
    const uri = workspaceFile('reasoner-chat.json');
    await vscode.window.showTextDocument(uri);
    // Enter on the first offer: "Build an Assistant Axis now (bundled roles, quick)".
    const file = await acceptingEachPick(vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, persona: true, tts: false, seal: false }));
    assert.ok(file, 'the persona analysis returned nothing');
    const axis = api.directions.all().find((d) => d.method === 'assistant-axis');
    assert.ok(axis, 'the built axis is not among the saved directions');
    assert.ok(file.turns.length > 0, 'no assistant turn was projected');
    for (const turn of file.turns) assert.ok(Number.isFinite(turn.projection), `turn ${turn.turn}: ${turn.projection}`);
    assert.ok(file.personaFloor !== null && Number.isFinite(file.personaFloor));
    // The chat's first two replies are the assistant's, the last two a pirate's (the user assigned the role):
    // the assistant turns stay above the floor, the role-play turns project below it and below every assistant turn.
    assert.equal(file.turns.length, 4);
    const [assistant, roles] = [file.turns.slice(0, 2), file.turns.slice(2)];
    for (const turn of assistant) assert.ok(!turn.belowFloor, `assistant turn ${turn.turn}: ${turn.projection} ≥ τ ${file.personaFloor}`);
    for (const turn of roles) {
      assert.ok(turn.belowFloor, `pirate turn ${turn.turn}: ${turn.projection} < τ ${file.personaFloor}`);
      for (const other of assistant) assert.ok(turn.projection < other.projection, `pirate turn ${turn.turn} (${turn.projection}) below assistant turn ${other.turn} (${other.projection})`);
    }
    assert.ok(file.directions.some((d) => d.name === axis.name && d.method === 'assistant-axis'));
  });

  it('remembers the axis for this workspace: the next persona analysis asks nothing', async () => {
    const uri = workspaceFile('reasoner-chat.json');
    // No quick pick is answered here: a question would time the analysis out.
    const file = await Promise.race([
      vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, persona: true, tts: false, seal: false }),
      new Promise<undefined>((resolve) => setTimeout(resolve, 20_000)),
    ]);
    assert.ok(file && file.turns.length > 0, 'the second persona analysis asked again or failed');
  });

  it('uses the saved SEAL direction for the latent score and fills the heatmap with every step at every layer', async () => {
    const seal = await api.directions.addFolder(fixture('THINKSCOPE_TEST_DIRECTION'));
    const uri = workspaceFile('reasoner-trace.md');
    await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One });
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, tts: false, seal: true, persona: false });
    assert.ok(file, 'the SEAL analysis returned nothing');
    assert.ok(file.steps.some((s) => s.latentScore !== null), 'no step has a SEAL latent score');
    assert.equal(file.settings.sealLayer, 2, 'the latent view reads the layer the SEAL direction was built at (2, per the model card)');
    const ref = file.directions.find((d) => d.name === seal.name);
    assert.ok(ref && ref.layers.length > 1, 'the SEAL direction is not listed with its layers');
    for (const step of file.steps) {
      const values = step.projections[seal.name];
      assert.ok(values, `step ${step.index} has no projection`);
      assert.equal(values.length, ref.layers.length);
      assert.ok(values.every(Number.isFinite));
    }

    panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { uri, view: 'steps' });
    const report = await panel!.whenRendered((r) => r.traceName === file.source.name && r.heatmapCells > 0, 15_000);
    assert.equal(report.heatmapDirection, seal.name);
    assert.equal(report.heatmapCells, file.steps.length * ref.layers.length, 'one cell per step and layer');
  });

  it('a trace longer than the model reads fails without leaving annotations or "Analyze again"', async () => {
    const uri = workspaceFile('long-trace.md');
    const thinking = Array.from({ length: 400 }, (_, i) => `Step ${i}: add ${i} and ${i + 1} to get ${2 * i + 1}.`).join('\n\n');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`What is the sum?\n\n<think>\n${thinking}\n</think>\n\nThe answer is \\boxed{1}.`));
    await vscode.window.showTextDocument(uri);
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, tts: false, seal: true, persona: false });
    assert.equal(file, undefined);
    assert.equal(api.results.get(uri), undefined, 'the failed analysis left results');
    await waitFor('no decorations', () => api.renderedSteps(uri).length === 0);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const titles = lenses.map((lens) => lens.command?.title ?? '');
    assert.ok(titles.some((t) => t.endsWith('Analyze')), `lenses: ${titles.join(', ')}`);
    assert.ok(!titles.some((t) => t.includes('again')), `lenses: ${titles.join(', ')}`);
  });
});
