// Steer Reply: the baseline and the steered reply stream into two editors side by side.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import type { SteerOutcome } from '../../../extension/vscode/steer-command';
import { fixture, thinkScope, useModel } from './support';

describe('ThinkScope: Steer Reply…', () => {
  let api: ThinkScopeApi;

  before(async () => {
    api = await thinkScope();
    await useModel(api);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('streams the baseline and the steered reply into two editors side by side', async () => {
    const growth = new Map<string, number[]>();
    /** Which reply each change of a reply editor wrote to, in order: 'b' or 's'. */
    const order: string[] = [];
    const watching = vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.document.uri.scheme !== 'untitled') return;
      const key = event.document.uri.toString();
      growth.set(key, [...(growth.get(key) ?? []), event.document.getText().length]);
      order.push(/baseline/.test(event.document.uri.path) ? 'b' : 's');
    });
    const outcome = await vscode.commands.executeCommand<SteerOutcome | undefined>('thinkscope.steerReply', {
      direction: fixture('THINKSCOPE_TEST_DIRECTION'),
      method: 'add',
      strength: -4,
      prompt: 'Ben has 77 cookies. Ben wins 2 more, then sells 5, then gives away 2. How many cookies now?',
      maxTokens: 40,
    });
    watching.dispose();
    assert.ok(outcome, 'Steer Reply returned nothing');
    const { result } = outcome;
    assert.ok(result.steered.length > 0 && result.baseline !== null && result.baseline.length > 0, 'both replies have text');

    const baseline = vscode.workspace.textDocuments.find((d) => d.uri.toString() === outcome.baseline.toString())!;
    const steered = vscode.workspace.textDocuments.find((d) => d.uri.toString() === outcome.steered.toString())!;
    assert.match(baseline.getText(), /^# Baseline reply\n/);
    assert.match(steered.getText(), /^# Steered reply \(seal: h − 4·v \(added at every position\) at hook_resid_pre of layers [\d–, ]+, at every position, prompt and reply\)\n/, 'the header says what was applied');
    assert.ok(baseline.getText().endsWith(result.baseline!), 'the baseline editor holds the whole baseline reply');
    assert.ok(steered.getText().endsWith(result.steered), 'the steered editor holds the whole steered reply');

    // The text arrived piece by piece while generating, not in one write at the end.
    const steps = growth.get(outcome.steered.toString()) ?? [];
    assert.ok(steps.length > 3, `the steered editor changed only ${steps.length} times`);

    const shown = vscode.window.visibleTextEditors.map((e) => `${e.document.uri.toString()} in column ${e.viewColumn}`).join('; ');
    const columnOf = (document: vscode.TextDocument) => vscode.window.visibleTextEditors.find((e) => e.document === document)?.viewColumn;
    assert.ok(columnOf(baseline) && columnOf(steered) && columnOf(baseline) !== columnOf(steered), `the replies are not side by side: ${shown}`);
    assert.ok(result.comparison, 'both replies were re-scored');
    // Scored as Analyze Trace scores a trace (its last choice of analyses here), not by keywords only.
    assert.ok(result.comparison.baseline.scoring && result.comparison.steered.scoring, 'the replies were scored by keyword classes only');

    // Both tabs say which pair they belong to.
    const pair = /^\/?Pair (\d+) · baseline\.md$/.exec(baseline.uri.path);
    assert.ok(pair, `baseline tab: ${baseline.uri.path}`);
    assert.match(steered.uri.path, new RegExp(`^/?Pair ${pair[1]} · steered \\(seal add -4\\)\\.md$`));

    // Batched: the two replies grew side by side, not one after the other.
    const baselineGrowth = growth.get(outcome.baseline.toString()) ?? [];
    assert.ok(baselineGrowth.length > 3, `the baseline editor changed only ${baselineGrowth.length} times`);
    // The first change of each editor is its header; after those, a steered change before the last baseline one.
    const tokens = order.slice(order.indexOf('s') + 1);
    assert.ok(tokens.indexOf('s') < tokens.lastIndexOf('b'), `the baseline reply was complete before the steered one began: ${order.join('')}`);

    // On request, both replies in VS Code's diff editor, titled by their pair.
    const title = await vscode.commands.executeCommand<string>('thinkscope.diffReplies');
    assert.match(title, new RegExp(`^Pair ${pair[1]}: baseline ↔ steered`));
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputTextDiff, 'the active tab is not a diff');
    assert.equal(tab.input.original.toString(), baseline.uri.toString());
    assert.equal(tab.input.modified.toString(), steered.uri.toString());
    assert.equal(tab.label, title);

    // Each editor is annotated with its reply's re-scored steps, on their own text.
    for (const [document, reply] of [[baseline, result.comparison.baseline], [steered, result.comparison.steered]] as const) {
      const annotated = api.results.get(document.uri);
      assert.ok(reply.steps.length > 0, `the ${document.uri.path} reply has no steps`);
      assert.equal(annotated?.steps.length, reply.steps.length, `${document.uri.path} is not annotated with its re-scored steps`);
      for (const step of annotated.steps) assert.equal(document.getText().slice(step.start, step.end), step.text, `step ${step.index} of ${document.uri.path}`);
    }
  });
});
