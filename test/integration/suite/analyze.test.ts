// Analyze Trace on the trained reasoner's bundled sample, as a user sees it: its true steps scored high
// and its decorative checks low, each step decorated on its own text with its SEAL class and TTS badge, a hover with the scores, annotations that follow edits, the export,
// and a saved trace shown again without a model.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import { parseTraceFile } from '../../../extension/common/bundle/trace-load';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { formatConfidence } from '../../../extension/vscode/hover';
import { CHECK_TTS, hoverText, stepKind, thinkScope, TRUE_STEP_TTS, useModel, waitFor, workspaceFile } from './support';

describe('ThinkScope: Analyze Trace', () => {
  let api: ThinkScopeApi;
  let document: vscode.TextDocument;
  let analysed: TraceFile;

  before(async () => {
    api = await thinkScope();
    await useModel(api);
    document = await vscode.workspace.openTextDocument(workspaceFile('reasoner-trace.md'));
    await vscode.window.showTextDocument(document);
    const snapshots: number[] = [];
    const listening = api.results.onDidChange(({ uri, file }) => {
      if (uri.toString() === document.uri.toString() && file) snapshots.push(file.steps.filter((s) => s.s11 !== null).length);
    });
    const result = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: document.uri, tts: true, seal: true, persona: false });
    listening.dispose();
    assert.ok(result, 'the analysis returned no trace');
    analysed = result;
    // Results appear step by step while the engine works, not only at the end.
    assert.ok(snapshots.length > 3, `expected several snapshots, got ${snapshots.length}`);
    assert.ok(snapshots.some((scored) => scored > 0 && scored < snapshots.at(-1)!), `snapshots did not grow step by step: ${snapshots.join(',')}`);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('keeps one result per step, each on its own text in the document', () => {
    const stored = api.results.get(document.uri);
    assert.ok(stored && stored.steps.length > 5, 'expected the sample to have more than 5 steps');
    for (const step of stored.steps) assert.equal(document.getText().slice(step.start, step.end), step.text, `step ${step.index}`);
    assert.deepEqual(
      stored.steps.filter((s) => s.sealClass === 'reflection').map((s) => s.text.split(/\s/)[0]),
      analysed.steps.filter((s) => s.sealClass === 'reflection').map((s) => s.text.split(/\s/)[0]),
    );
    assert.ok(stored.steps.some((s) => s.sealClass === 'reflection' && /^Wait\b/.test(s.text)), 'the "Wait, let me check…" step is a reflection');
    assert.ok(stored.steps.some((s) => s.sealClass === 'transition' && /^Alternatively\b/.test(s.text)), 'the "Alternatively…" step is a transition');
  });

  it('scores the steps the answer depends on high and the decorative checks low', () => {
    const stored = api.results.get(document.uri)!;
    assert.equal(stored.answerCheck?.tts, 'scored', 'the model answers the trace’s answer, so its scores mean something');
    assert.equal(stored.answerCheck?.agrees, true);
    const scored = stored.steps.filter((s) => s.tts !== null);
    const trueSteps = scored.filter((s) => stepKind(s.text) === 'true');
    const checks = scored.filter((s) => stepKind(s.text) === 'check');
    assert.ok(trueSteps.length >= 2 && checks.length >= 1, 'the sample has true steps and checks');
    for (const step of trueSteps) assert.ok(step.tts! >= TRUE_STEP_TTS, `true step ${step.index} (${step.text}): TTS ${step.tts}`);
    for (const step of checks) assert.ok(step.tts! <= CHECK_TTS, `check ${step.index} (${step.text}): TTS ${step.tts}`);
  });

  it('decorates every visible step on its exact range, by SEAL class, with its TTS badge', async () => {
    const stored = api.results.get(document.uri)!;
    const rendered = await waitFor('decorations', () => api.renderedSteps(document.uri).length > 0 && api.renderedSteps(document.uri));
    const byIndex = new Map(stored.steps.map((s) => [s.index, s]));
    assert.ok(rendered.length >= Math.min(stored.steps.length, 10), `only ${rendered.length} steps decorated`);
    for (const shown of rendered) {
      const step = byIndex.get(shown.index)!;
      assert.equal(document.getText(shown.range), step.text, `decoration of step ${step.index} is on other text`);
      assert.equal(shown.kind, step.sealClass);
      if (!step.perturbable) assert.equal(shown.badge, `#${step.index} n/p`);
      else assert.equal(shown.badge, `#${step.index} TTS ${step.tts!.toFixed(2)}`);
      // The badge sits right after the step's own text, not at the end of its line.
      assert.deepEqual(shown.badgeAt, shown.range.end, `badge of step ${step.index}`);
    }
    assert.ok(stored.answerCheck, 'the model\'s own answer after the trace was read');
    assert.ok(rendered.some((r) => r.badge?.endsWith(' n/p')) && rendered.some((r) => r.badge?.includes(' TTS ')), 'expected both scored and not-perturbable steps');
  });

  it('shows the four S values, the class, its keyword and the command links on hover', async () => {
    const stored = api.results.get(document.uri)!;
    const reflection = stored.steps.find((s) => s.sealClass === 'reflection' && s.perturbable)!;
    const middle = document.positionAt((reflection.start + reflection.end) >> 1);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, middle));
    assert.ok(text.includes(`ThinkScope · step ${reflection.index}**`), 'the hover names another step');
    assert.match(text, /SEAL class: \*\*reflection\*\* \(keyword “[^”]+”\)/);
    for (const [name, value] of [['S₁₁', reflection.s11], ['S₁₀', reflection.s10], ['S₀₁', reflection.s01], ['S₀₀', reflection.s00]] as const) {
      assert.ok(text.includes(`${name} ${formatConfidence(value)}`), `hover lacks ${name} ${value}`);
    }
    assert.match(text, /\[Steer this step\]\(command:thinkscope\.steerStep\?/);
    assert.match(text, /\[Show in panel\]\(command:thinkscope\.openPanel\?/);
    const between = document.positionAt(0); // the question, before the thinking: no step there
    assert.equal(hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, between)).includes('ThinkScope'), false);
  });

  it('exports the trace, and opening the file shows the annotated text without a model', async () => {
    const target = workspaceFile('exported.thinktrace.json');
    const written = await vscode.commands.executeCommand<vscode.Uri>('thinkscope.exportTrace', { uri: document.uri, target });
    assert.equal(written?.toString(), target.toString());
    const saved = parseTraceFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(target)));
    assert.equal(saved.steps.length, api.results.get(document.uri)!.steps.length);

    // No engine runs while the saved trace is shown: the annotations come from the file alone.
    const pid = api.enginePid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('the engine to stop', () => api.engine.state.status === 'stopped');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(target));
    const view = await waitFor('the annotated view', () => vscode.window.activeTextEditor?.document.uri.scheme === 'thinkscope-trace' && vscode.window.activeTextEditor.document);
    assert.equal(view.getText(), saved.source.text);
    assert.equal(api.results.get(view.uri)?.steps.length, saved.steps.length);
    const rendered = await waitFor('decorations of the saved trace', () => api.renderedSteps(view.uri).length > 0 && api.renderedSteps(view.uri));
    for (const shown of rendered) assert.equal(view.getText(shown.range), saved.steps.find((s) => s.index === shown.index)!.text);
    const step = saved.steps.find((s) => s.sealClass === 'transition')!;
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', view.uri, view.positionAt(step.start + 1)));
    assert.match(text, /SEAL class: \*\*transition\*\*/);
    assert.equal(api.enginePid(), undefined, 'showing a saved trace started the engine');
  });

  it('refuses a trace file that does not validate, and shows nothing', async () => {
    const broken = workspaceFile('broken.thinktrace.json');
    await vscode.workspace.fs.writeFile(broken, new TextEncoder().encode('{"schema": "thinkscope.trace/1", "steps": 3}'));
    const view = await vscode.commands.executeCommand('thinkscope.openTraceSource', broken);
    assert.equal(view, undefined);
    const shown = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'thinkscope-trace' && d.uri.query === broken.toString());
    assert.deepEqual(shown, [], 'a view of the broken file was opened');
  });

  it('moves annotations with an edit before them and drops the one whose text changed', async () => {
    await vscode.window.showTextDocument(document);
    const before = api.results.get(document.uri)!;
    const edited = before.steps[3];
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, document.positionAt(0), 'Context added later.\n');
    edit.insert(document.uri, document.positionAt(edited.start + 2), 'XYZ');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const after = api.results.get(document.uri)!;
    assert.equal(after.steps.length, before.steps.length - 1);
    assert.equal(after.steps.some((s) => s.index === edited.index), false, 'the edited step kept its annotation');
    for (const step of after.steps) assert.equal(document.getText().slice(step.start, step.end), step.text, `step ${step.index} after the edit`);
    const rendered = api.renderedSteps(document.uri);
    assert.ok(rendered.length > 0);
    for (const shown of rendered) assert.equal(document.getText(shown.range), after.steps.find((s) => s.index === shown.index)!.text);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
  it('shows the scores of an answer the model does not give as uninformative, never as numbers', async () => {
    const other = workspaceFile('reasoner-trace-other-answer.md');
    await vscode.workspace.fs.copy(document.uri, other, { overwrite: true });
    await vscode.window.showTextDocument(other);
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: other, tts: true, seal: true, persona: false, answer: '13' });
    assert.ok(file, 'the analysis returned no trace');
    assert.equal(file.answerCheck?.agrees, false);
    assert.equal(file.answerCheck?.tts, 'uninformative');
    const rendered = await waitFor('decorations', () => api.renderedSteps(other).length > 0 && api.renderedSteps(other));
    const scored = rendered.filter((r) => !r.badge?.endsWith(' n/p'));
    assert.ok(scored.length > 0);
    for (const shown of scored) assert.equal(shown.badge, `#${shown.index} TTS uninformative`);
    api.results.delete(other);
  });
});
