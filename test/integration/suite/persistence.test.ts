// Analyses that survive a reload: with thinkscope.results.keep = sidecar, an analysed document gets a
// complete trace file beside it, and a document opened with that text gets its annotations back
// without a model (what a reloaded window does for every document it reopens); a changed text does not.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { parseTraceFile } from '../../../extension/common/bundle/trace-load';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { sampleTraceFile } from '../../unit/bundle-fixtures';
import { thinkScope, waitFor, workspaceFile } from './support';

describe('ThinkScope keeps analyses across reloads', () => {
  let api: ThinkScopeApi;
  const settings = () => vscode.workspace.getConfiguration('thinkscope');
  const original = workspaceFile('kept.md');
  const reopened = workspaceFile('kept-again.md');
  const changed = workspaceFile('kept-changed.md');

  before(async () => {
    api = await thinkScope();
    await settings().update('results.keep', 'sidecar', vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of [original, reopened, changed]) {
      api.results.delete(uri);
      await vscode.workspace.fs.delete(uri).then(undefined, () => undefined);
    }
    await settings().update('results.keep', undefined, vscode.ConfigurationTarget.Global);
  });

  it('writes the analysis beside the document, complete, and brings it back when the document is opened again', async () => {
    const file = sampleTraceFile();
    const text = new TextEncoder().encode(file.source.text);
    await vscode.workspace.fs.writeFile(original, text);
    await vscode.window.showTextDocument(original);
    api.results.set(original, file);
    const sidecar = workspaceFile('kept.md.thinktrace.json');
    const saved = await waitFor('the sidecar trace file', async () => {
      try {
        return parseTraceFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(sidecar)));
      } catch {
        return undefined;
      }
    });
    assert.deepEqual(saved.steps, file.steps);

    // A window that opens a document with its sidecar beside it: the annotations are back, no model needed.
    await vscode.workspace.fs.writeFile(reopened, text);
    await vscode.workspace.fs.copy(sidecar, workspaceFile('kept-again.md.thinktrace.json'), { overwrite: true });
    await vscode.window.showTextDocument(reopened);
    const restored = await waitFor('the restored analysis', () => api.results.get(reopened));
    assert.equal(restored.steps.length, file.steps.length);
    await waitFor('decorations of the restored analysis', () => api.renderedSteps(reopened).length > 0);

    // Another text under the same analysis is not decorated with it.
    await vscode.workspace.fs.writeFile(changed, new TextEncoder().encode(`${file.source.text}\nA line added later.`));
    await vscode.workspace.fs.copy(sidecar, workspaceFile('kept-changed.md.thinktrace.json'), { overwrite: true });
    await vscode.window.showTextDocument(changed);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(api.results.get(changed), undefined);

    // Clear Annotations removes the kept analysis too.
    await vscode.window.showTextDocument(original);
    await vscode.commands.executeCommand('thinkscope.clearAnnotations', original);
    await waitFor('the sidecar to be removed', async () => !(await vscode.workspace.fs.stat(sidecar).then(() => true, () => false)));
  });
});
