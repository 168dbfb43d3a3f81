// A chat JSON with DeepSeek's reasoning_content (the reasoner's sample trace), analysed as a user would:
// the model reads the decoded thinking, so its true steps score high and its checks low as in the
// Markdown trace; beside the JSON a readable view opens with the thinking decoded, one step per line,
// annotated like any trace, and "Show This Step in the JSON" selects the step's own text in the JSON.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { CHECK_TTS, stepKind, thinkScope, TRUE_STEP_TTS, useModel, waitFor, workspaceFile } from './support';

describe('ThinkScope: a JSON trace, annotated in a readable view', () => {
  let api: ThinkScopeApi;
  let json: vscode.Uri;
  let analysed: TraceFile;

  before(async () => {
    api = await thinkScope();
    await useModel(api);
    json = workspaceFile('reasoner-trace.json');
    await vscode.window.showTextDocument(json, { viewColumn: vscode.ViewColumn.One });
    const result = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: json, tts: true, seal: true, persona: false, sealDirection: null });
    assert.ok(result, 'the analysis returned nothing');
    analysed = result;
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('scores the decoded thinking: true steps high, decorative checks low', () => {
    assert.equal(analysed.answerCheck?.agrees, true);
    const scored = analysed.steps.filter((s) => s.tts !== null);
    assert.ok(scored.some((s) => stepKind(s.text) === 'true') && scored.some((s) => stepKind(s.text) === 'check'));
    for (const step of scored) {
      if (stepKind(step.text) === 'true') assert.ok(step.tts! >= TRUE_STEP_TTS, `true step ${step.index} (${step.text}): TTS ${step.tts}`);
      if (stepKind(step.text) === 'check') assert.ok(step.tts! <= CHECK_TTS, `check ${step.index} (${step.text}): TTS ${step.tts}`);
    }
  });

  it('opens the thinking decoded, one step per line, with the JSON’s annotations on it', async () => {
    const view = await waitFor('the readable view', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'thinkscope-readable'));
    assert.equal(vscode.Uri.parse(view.document.uri.query).toString(), json.toString());
    const readable = await waitFor('its annotations', () => api.results.get(view.document.uri)?.steps.length === analysed.steps.length && api.results.get(view.document.uri));
    const text = view.document.getText();
    assert.equal(text, readable.source.text);
    assert.ok(!text.includes('\\n') && !text.includes('\\"'), 'no JSON escapes in the readable text');
    for (const step of readable.steps) {
      assert.equal(text[step.start - 1], '\n', `step ${step.index} starts a line`);
      assert.equal(text[step.end], '\n', `step ${step.index} ends its line`);
    }
    const rendered = await waitFor('decorations in the readable view', () => api.renderedSteps(view.document.uri).length > 0 && api.renderedSteps(view.document.uri));
    for (const shown of rendered) assert.equal(view.document.getText(shown.range), readable.steps[shown.index].text);
    assert.ok(rendered.length === readable.steps.length && rendered.every((r) => r.badge?.startsWith(`#${r.index} `)));
  });

  it('selects the step at the cursor in the JSON itself', async () => {
    const view = vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'thinkscope-readable')!;
    const readable = api.results.get(view.document.uri)!;
    const wait = readable.steps.find((s) => s.index > 0 && stepKind(s.text) === 'check')!;
    const editor = await vscode.window.showTextDocument(view.document, view.viewColumn);
    editor.selection = new vscode.Selection(view.document.positionAt(wait.start + 2), view.document.positionAt(wait.start + 2));
    assert.equal(await vscode.commands.executeCommand('thinkscope.revealInJson'), wait.index);
    const active = vscode.window.activeTextEditor!;
    assert.equal(active.document.uri.toString(), json.toString());
    const step = analysed.steps[wait.index];
    assert.deepEqual([active.document.offsetAt(active.selection.start), active.document.offsetAt(active.selection.end)], [step.start, step.end]);
  });
});
