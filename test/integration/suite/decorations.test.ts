// Decorations of a long trace: only the visible part is decorated and scrolling brings the rest;
// the decoration style and "notable steps only" settings are honoured; several steps on one line
// each carry their own badge after their own text.
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
    await vscode.workspace.getConfiguration('thinkscope').update('decorations.notableTts', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('decorates only the visible steps, fast, and the rest as the view scrolls', async () => {
    const uri = editor.document.uri;
    const rendered = api.renderedSteps(uri);
    assert.ok(rendered.length > 10 && rendered.length < 300, `${rendered.length} of ${STEPS} steps decorated at the top`);
    assert.equal(rendered.some((r) => r.index === STEPS - 1), false);
    for (const shown of rendered) assert.equal(editor.document.getText(shown.range), api.results.get(uri)!.steps[shown.index].text);
    assert.ok(rendered.some((r) => r.kind === 'reflection' && r.badge === `#${r.index} n/p`) && rendered.some((r) => r.badge === `#${r.index} TTS 0.50` && r.bucket === 'medium'));

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

  it('with "notable steps only", decorates only the steps scoring at least the threshold', async () => {
    const uri = editor.document.uri;
    const settings = vscode.workspace.getConfiguration('thinkscope');
    await settings.update('decorations.notableTts', 0.7, vscode.ConfigurationTarget.Global);
    const notable = await waitFor('the threshold to apply', () => {
      const shown = api.renderedSteps(uri);
      return shown.length > 0 && shown.every((r) => r.bucket === 'high') && shown;
    });
    for (const shown of notable) assert.ok(api.results.get(uri)!.steps[shown.index].tts! >= 0.7);
    await settings.update('decorations.notableTts', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('every step again', () => api.renderedSteps(uri).some((r) => r.bucket === 'none'));
  });

  it('gives each of several steps on one line its own badge, right after its text', async () => {
    const sentences = ['First add 2 and 3.', 'That is 5.', 'Wait, check it.', 'Yes, 5.'];
    const text = `<think>\n${sentences.join(' ')}\n</think>\n`;
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: text });
    await vscode.window.showTextDocument(document, vscode.ViewColumn.Beside);
    let offset = '<think>\n'.length;
    const steps: StepAnnotation[] = sentences.map((sentence, index) => {
      const start = offset;
      offset += sentence.length + 1;
      return {
        index, start, end: start + sentence.length, text: sentence, perturbable: index !== 2, tts: index === 2 ? null : 0.3 * index,
        s11: 0.5, s01: 0.4, s10: 0.3, s00: 0.2, sealClass: index === 2 ? 'reflection' : 'execution', sealKeyword: null, latentScore: null, projections: {},
      };
    });
    api.results.set(document.uri, newTraceFile({ toolVersion: 'test', source: { name: 'one-line.md', format: 'markdown', text }, steps }));
    const rendered = await waitFor('the one-line steps', () => api.renderedSteps(document.uri).length === sentences.length && api.renderedSteps(document.uri));
    assert.deepEqual(rendered.map((r) => r.badge), ['#0 TTS 0.00', '#1 TTS 0.30', '#2 n/p', '#3 TTS 0.90']);
    assert.deepEqual(rendered.map((r) => r.bucket), ['low', 'medium', 'none', 'high']);
    for (const shown of rendered) assert.deepEqual(shown.badgeAt, shown.range.end, `badge of step ${shown.index} is not at its end`);
    assert.equal(new Set(rendered.map((r) => r.badgeAt!.character)).size, sentences.length, 'badges piled up at one place');
    // What the editor shows: inlay hints, laid out (and wrapped) with the text, one after each step.
    const whole = new vscode.Range(0, 0, document.lineCount, 0);
    const hints = await waitFor('the badges', async () => {
      const found = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', document.uri, whole);
      return found?.length === sentences.length && found;
    });
    assert.deepEqual(hints.map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''))), rendered.map((r) => r.badge));
    assert.deepEqual(hints.map((h) => document.offsetAt(h.position)), steps.map((s) => s.end));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    editor = await vscode.window.showTextDocument(editor.document);
  });
});
