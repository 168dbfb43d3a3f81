// Decorations of a long trace: only the visible part is decorated, quickly, and scrolling brings
// the rest; the decoration style setting is honoured.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { StepAnnotation } from '../../../extension/common/bundle/trace-file';
import { newTraceFile } from '../../../extension/common/bundle/trace-write';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { thinkScope, waitFor } from './support';

const STEPS = 2000;

describe('ThinkScope decorations of a 2,000-step trace', () => {
  let api: ThinkScopeApi;
  let editor: vscode.TextEditor;

  before(async () => {
    api = await thinkScope();
    const lines = Array.from({ length: STEPS }, (_, i) => (i % 7 === 3 ? `Wait, let me check step ${i} again.` : `Then ${i} + 1 = ${i + 1}.`));
    const text = `<think>\n${lines.join('\n')}\n</think>\n`;
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: text });
    editor = await vscode.window.showTextDocument(document);
    let offset = '<think>\n'.length;
    const steps: StepAnnotation[] = lines.map((line, index) => {
      const start = offset;
      offset += line.length + 1;
      const reflection = line.startsWith('Wait');
      return {
        index, start, end: start + line.length, text: line, perturbable: !reflection, tts: reflection ? null : (index % 10) / 10,
        s11: 0.5, s01: 0.4, s10: 0.3, s00: 0.2, sealClass: reflection ? 'reflection' : 'execution', sealKeyword: reflection ? 'Wait' : null, latentScore: null, projections: {},
      };
    });
    api.results.set(document.uri, newTraceFile({ toolVersion: 'test', source: { name: 'long.md', format: 'markdown', text }, steps }));
  });

  after(async () => {
    await vscode.workspace.getConfiguration('thinkscope').update('decorations.style', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('decorates only the visible steps, fast, and the rest as the view scrolls', async () => {
    const uri = editor.document.uri;
    const started = performance.now();
    const rendered = api.renderedSteps(uri);
    const elapsed = performance.now() - started;
    assert.ok(rendered.length > 10 && rendered.length < 300, `${rendered.length} of ${STEPS} steps decorated at the top`);
    assert.ok(elapsed < 50, `rendering took ${elapsed.toFixed(1)} ms`);
    assert.equal(rendered.some((r) => r.index === STEPS - 1), false);
    for (const shown of rendered) assert.equal(editor.document.getText(shown.range), api.results.get(uri)!.steps[shown.index].text);
    assert.ok(rendered.some((r) => r.kind === 'reflection' && r.badge === 'n/p') && rendered.some((r) => r.badge === 'TTS 0.50'));

    editor.revealRange(new vscode.Range(editor.document.lineCount - 1, 0, editor.document.lineCount - 1, 0));
    await waitFor('the last step to be decorated after scrolling', () => api.renderedSteps(uri).some((r) => r.index === STEPS - 1));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(editor.document.lineCount - 3, 2));
    assert.ok(hovers.length > 0, 'no hover on the last steps');
  });

  it('honours the decoration style: background drops the badges, off drops everything', async () => {
    const uri = editor.document.uri;
    const settings = vscode.workspace.getConfiguration('thinkscope');
    await settings.update('decorations.style', 'background', vscode.ConfigurationTarget.Global);
    const tinted = api.renderedSteps(uri);
    assert.ok(tinted.length > 0 && tinted.every((r) => r.badge === undefined));
    await settings.update('decorations.style', 'off', vscode.ConfigurationTarget.Global);
    assert.deepEqual(api.renderedSteps(uri), []);
    await settings.update('decorations.style', 'inline', vscode.ConfigurationTarget.Global);
    assert.ok(api.renderedSteps(uri).some((r) => r.badge !== undefined));
  });
});
