// Pruning a folder of traces from the editor, as from the Explorer's menu: every trace under every rule,
// the table, chart and records written to the folder's prune-report, and the table opened as a preview.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { PruneRecord } from '../../../extension/common/bundle/trace-file';
import type { PruneFolderResult } from '../../../extension/common/protocol';
import { fixture, thinkScope, waitFor, workspaceFile } from './support';

describe('ThinkScope: prune a folder of traces', () => {
  const folder = workspaceFile('prune-batch');

  before(async () => {
    const api = await thinkScope();
    if (api.engine.state.model?.path !== fixture('THINKSCOPE_TEST_MODEL')) {
      assert.equal(await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(fixture('THINKSCOPE_TEST_MODEL'))), fixture('THINKSCOPE_TEST_MODEL'));
    }
    await vscode.workspace.fs.createDirectory(folder);
    await vscode.workspace.fs.copy(workspaceFile('reasoner-whatif-trace.md'), vscode.Uri.joinPath(folder, 'a.md'), { overwrite: true });
    await vscode.workspace.fs.copy(workspaceFile('reasoner-trace.md'), vscode.Uri.joinPath(folder, 'b.md'), { overwrite: true });
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'notes.png'), new Uint8Array([137, 80, 78, 71]));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(folder, { recursive: true });
  });

  it('writes the table, chart and records of every trace under every rule, and previews the table', async () => {
    const rules = [
      { kind: 'threshold', value: 0.05 },
      { kind: 'fraction', value: 1 },
    ];
    const result = await vscode.commands.executeCommand<PruneFolderResult | undefined>('thinkscope.pruneFolder', { folder: folder.toString(), rules });
    assert.ok(result, 'the batch returned nothing');
    assert.equal(result.traces, 2, 'the two traces, not the picture');
    assert.deepEqual(result.points.map((p) => p.rule), rules);
    const all = result.points[1];
    assert.equal(all.traces, 2);
    assert.ok(all.tokensSaved > 0, `removing every scored step saves tokens (${all.tokensSaved})`);
    const read = async (name: string) => new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, 'prune-report', name)));
    const table = await read('prune-table.md');
    assert.ok(table.includes(result.table), 'the written table is the one returned');
    assert.match(table, /lowest 100% by TTS \| 2 \|/);
    assert.match(await read('prune-chart.svg'), /^<svg[^>]*>[\s\S]*tokens saved[\s\S]*<\/svg>\n$/);
    const records = (await read('prune-results.jsonl')).trim().split('\n').map((line) => JSON.parse(line) as PruneRecord);
    assert.equal(records.length, 4, 'two traces × two rules');
    assert.deepEqual(new Set(records.map((r) => r.original.split(/[\\/]/).pop())), new Set(['a.md', 'b.md']));
    await waitFor('the table preview', () =>
      vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((tab) => tab.input instanceof vscode.TabInputWebview && tab.label.includes('prune-table')),
    );
  });

  it('says what is wrong with a folder without traces, and writes nothing', async () => {
    const empty = vscode.Uri.joinPath(folder, 'empty');
    await vscode.workspace.fs.createDirectory(empty);
    const result = await vscode.commands.executeCommand<PruneFolderResult | undefined>('thinkscope.pruneFolder', { folder: empty.toString(), rules: [{ kind: 'fraction', value: 0.5 }] });
    assert.equal(result, undefined);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(vscode.Uri.joinPath(empty, 'prune-report'))));
  });
});
