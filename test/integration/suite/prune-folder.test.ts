// Pruning a folder of traces from the editor, as from the Explorer's menu, on the trained reasoner and
// its sample traces: every trace under every rule, the table, chart and records written to the folder's
// prune-report, and the folder's pruning panel drawing the rows the engine computed.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { PruneRecord } from '../../../extension/common/bundle/trace-file';
import type { PruneFolderOutcome } from '../../../extension/vscode/prune-folder-command';
import { CHECK_TTS, thinkScope, useModel, waitFor, workspaceFile } from './support';

const SAMPLES = ['reasoner-trace.md', 'reasoner-whatif-trace.md', 'reasoner-trace.json'];

describe('ThinkScope: prune a folder of traces', () => {
  const folder = workspaceFile('prune-batch');

  before(async () => {
    await useModel(await thinkScope());
    await vscode.workspace.fs.createDirectory(folder);
    for (const name of SAMPLES) await vscode.workspace.fs.copy(workspaceFile(name), vscode.Uri.joinPath(folder, name), { overwrite: true });
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'notes.png'), new Uint8Array([137, 80, 78, 71]));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(folder, { recursive: true });
  });

  it("keeps every answer when the checks go, writes the report, and shows the engine's rows in the pruning panel", async () => {
    const rules = [
      { kind: 'threshold', value: CHECK_TTS },
      { kind: 'fraction', value: 1 },
    ];
    const outcome = await vscode.commands.executeCommand<PruneFolderOutcome | undefined>('thinkscope.pruneFolder', { folder: folder.toString(), rules });
    assert.ok(outcome, 'the batch returned nothing');
    assert.equal(outcome.traces, SAMPLES.length, 'the sample traces, not the picture');
    assert.deepEqual(
      outcome.points.map((p) => p.rule),
      rules,
    );
    const [checks, all] = outcome.points;
    assert.equal(checks.answersKept, 1, `pruning the decorative checks (TTS < ${CHECK_TTS}) keeps every trace's answer`);
    assert.ok(checks.tokensSaved > 0, `the sample traces have checks to prune (${checks.tokensSaved})`);
    assert.ok(all.tokensSaved > checks.tokensSaved, `removing every scored step saves more (${all.tokensSaved})`);

    const read = async (name: string) => new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, 'prune-report', name)));
    const table = await read('prune-table.md');
    assert.ok(table.includes(outcome.table), 'the written table is the one returned');
    for (const row of outcome.rows) assert.ok(table.includes(`| ${row.join(' | ')} |`), `the written table has the row ${row.join(', ')}`);
    assert.match(await read('prune-chart.svg'), /^<svg[^>]*>[\s\S]*tokens saved[\s\S]*<\/svg>\n$/);
    const records = (await read('prune-results.jsonl')).trim().split('\n').map((line) => JSON.parse(line) as PruneRecord);
    assert.equal(records.length, SAMPLES.length * rules.length, 'every trace under every rule');
    assert.deepEqual(new Set(records.map((r) => r.original.split(/[\\/]/).pop())), new Set(SAMPLES));

    const drawn = await outcome.panel.whenRendered((d) => d.rows.length > 0, 20_000);
    assert.deepEqual(drawn.rows, outcome.rows, 'the panel shows the rows the engine computed');
    assert.deepEqual(
      outcome.rows.map((row) => row[0]),
      [`TTS < ${CHECK_TTS}`, 'lowest 100% by TTS'],
    );
    assert.equal(drawn.markers, 2, 'a point per rule (the two prune differently)');
    assert.ok(
      drawn.tooltips.every((tip) => /tokens saved \(mean\): \d+%/.test(tip) && /answer kept: \d+%/.test(tip) && /confidence kept \(median\): (\d+%|∞)/.test(tip)),
      `each point's hover says what its rule kept: ${JSON.stringify(drawn.tooltips)}`,
    );
    await waitFor('the pruning panel', () =>
      vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((tab) => tab.input instanceof vscode.TabInputWebview && tab.label === 'Pruning prune-batch'),
    );

    // Pruning the folder again updates its panel rather than opening another.
    const again = await vscode.commands.executeCommand<PruneFolderOutcome | undefined>('thinkscope.pruneFolder', { folder: folder.toString(), rules: [rules[0]] });
    assert.equal(again?.panel, outcome.panel, 'one panel per folder');
    const redrawn = await outcome.panel.whenRendered((d) => d.rows.length === 1, 20_000);
    assert.deepEqual(redrawn.rows, again?.rows);
  });

  it('says what is wrong with a folder without traces, and writes nothing', async () => {
    const empty = vscode.Uri.joinPath(folder, 'empty');
    await vscode.workspace.fs.createDirectory(empty);
    const result = await vscode.commands.executeCommand<PruneFolderOutcome | undefined>('thinkscope.pruneFolder', { folder: empty.toString(), rules: [{ kind: 'fraction', value: 0.5 }] });
    assert.equal(result, undefined);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(vscode.Uri.joinPath(empty, 'prune-report'))));
  });
});
