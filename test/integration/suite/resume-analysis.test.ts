// Cancel, then Resume, as a user does it on the trained reasoner: Cancel in the progress notification
// keeps the steps scored so far, the notification that follows offers Resume, the resumed run goes on
// at the next step (the engine says so), and every score equals an uninterrupted run's exactly.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import type { AnalyzeParams, EngineNotifications, TtsResumeEvent } from '../../../extension/common/protocol';
import type { EngineClient } from '../../../extension/vscode/contracts';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { fixture, thinkScope, waitFor, workspaceFile } from './support';

/** What one analyzeTrace request of the extension sent and heard. */
interface Observed {
  params: AnalyzeParams;
  events: TtsResumeEvent[];
  progress: string[];
  done: Promise<unknown>;
}

/**
 * The reasoner's sample followed by its last check and step 15 more times: 37 steps, long enough for a
 * Cancel to land mid-run, and the model still answers the trace's 72 (so no warning is shown).
 */
function longTrace(): string {
  const sample = readFileSync(workspaceFile('reasoner-trace.md').fsPath, 'utf8');
  const [head, rest] = sample.split('<think>\n');
  const [body, tail] = rest.split('</think>');
  const steps = body.trim().split('\n\n');
  const repeated = Array.from({ length: 15 }, () => [steps[6], steps[5]]).flat();
  return `${head}<think>\n${[...steps, ...repeated].join('\n\n')}\n</think>${tail}`;
}

const scores = (file: TraceFile | undefined) => file?.steps.map(({ index, perturbable, tts, s11, s01, s10, s00 }) => ({ index, perturbable, tts, s11, s01, s10, s00 }));

describe('ThinkScope: Cancel and Resume an analysis', () => {
  let api: ThinkScopeApi;
  let document: vscode.TextDocument;
  const requests: Observed[] = [];
  let request: EngineClient['request'];
  const settings = () => vscode.workspace.getConfiguration('thinkscope');

  before(async () => {
    api = await thinkScope();
    // Small packs on one thread: many packs of steps, so that a Cancel lands before the last one.
    await settings().update('engine.memoryBudget', 1, vscode.ConfigurationTarget.Global);
    await settings().update('engine.threads', 1, vscode.ConfigurationTarget.Global);
    assert.equal(await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(fixture('THINKSCOPE_TEST_MODEL'))), fixture('THINKSCOPE_TEST_MODEL'));
    const uri = workspaceFile('resume-trace.md');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(longTrace()));
    document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    // Every analyzeTrace request the extension sends, with what the engine says while it runs.
    request = api.engine.request.bind(api.engine);
    api.engine.request = ((method, params, options) => {
      if (method !== 'analyzeTrace') return request(method, params, options);
      const observed: Observed = { params: params as AnalyzeParams, events: [], progress: [], done: Promise.resolve() };
      const done = request(method, params, {
        ...options,
        onNotification: (name, notification) => {
          if (name === 'ttsResume') observed.events.push((notification as EngineNotifications['ttsResume']).event);
          if (name === 'progress') observed.progress.push((notification as EngineNotifications['progress']).message);
          options?.onNotification?.(name, notification);
        },
      });
      observed.done = done.catch(() => undefined);
      requests.push(observed);
      return done;
    }) as EngineClient['request'];
  });

  after(async () => {
    api.engine.request = request;
    await settings().update('engine.memoryBudget', undefined, vscode.ConfigurationTarget.Global);
    await settings().update('engine.threads', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('thinkscope.selectModel', vscode.Uri.file(fixture('THINKSCOPE_TEST_MODEL')));
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  const analyses = () => ({ uri: document.uri, tts: true, seal: false, persona: false, lens: false });

  /**
   * Runs the analysis and presses Cancel in its progress notification (its primary action, as
   * Ctrl+Shift+A does) once a step is scored, again every 100 ms until the request ends (a press can
   * come to nothing while the workbench is busy); the notification that says it was cancelled comes
   * only after that.
   */
  async function cancelMidRun(total: number): Promise<{ kept: number; total: number }> {
    let presses = 0;
    let pressing: Promise<void> | undefined;
    const listening = api.results.onDidChange(({ uri, file }) => {
      if (pressing || uri.toString() !== document.uri.toString() || !file?.steps.some((s) => s.s11 !== null)) return;
      const run = requests.at(-1)!;
      let ended = false;
      void run.done.then(() => (ended = true));
      pressing = (async () => {
        while (!ended) {
          presses++;
          await vscode.commands.executeCommand('notification.acceptPrimaryAction');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
    });
    const cancelled = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', analyses());
    listening.dispose();
    await pressing;
    const events = requests.at(-1)!.events;
    assert.equal(cancelled, undefined, `the run was cancelled (${presses} presses of Cancel, ${JSON.stringify(events.at(-1))})`);
    const kept = events.filter((e) => e.kind === 'kept').at(-1);
    assert.ok(kept && kept.kind === 'kept' && kept.kept > 0 && kept.kept < total, `the cancel landed mid-run: ${JSON.stringify(kept)}`);
    assert.equal(requests.at(-1)!.params.document, document.uri.toString());
    return kept;
  }

  it('Cancel keeps the steps scored, Resume goes on at the next step, and the scores equal an uninterrupted run', async function () {
    this.timeout(120_000);
    const uninterrupted = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', analyses());
    assert.ok(uninterrupted, 'the uninterrupted run returned no trace');
    const total = uninterrupted.steps.length;
    assert.equal(total, 37);
    assert.equal(uninterrupted.answerCheck?.agrees, true);
    await vscode.commands.executeCommand('notifications.clearAll');
    // The first run of a workbench command from an extension is slow (activation events); this one finds no notification.
    await vscode.commands.executeCommand('notification.acceptPrimaryAction');

    const kept = await cancelMidRun(total);

    // The notification after the cancel offers Resume first.
    const before = requests.length;
    // Pressed again only when nothing came of a press: a later press would cancel the resumed run.
    await waitFor('Resume in the notification after the cancel', async () => {
      await vscode.commands.executeCommand('notification.acceptPrimaryAction');
      return waitFor('the resumed run', () => requests.length > before, 2_000).catch(() => false);
    });
    const resumed = requests.at(-1)!;
    await resumed.done;
    assert.deepEqual(resumed.events.filter((e) => e.kind !== 'kept'), [{ kind: 'resumed', kept: kept.kept, total }]);
    const scoring = resumed.progress.filter((message) => /^True Thinking Score: (step|resuming)/.test(message));
    assert.equal(scoring[0], `True Thinking Score: resuming at step ${kept.kept + 1} of ${total}`);
    assert.equal(scoring[1], `True Thinking Score: step ${kept.kept + 1} of ${total}`);
    assert.equal(scoring.at(-1), `True Thinking Score: step ${total} of ${total}`);
    const result = await waitFor('the resumed result', () => {
      const file = api.results.get(document.uri);
      return file && file.steps.every((s) => !s.perturbable || s.s11 !== null) && file;
    });
    assert.deepEqual(scores(result), scores(uninterrupted));
  });

  it('an edited trace scores every step again and says why', async function () {
    this.timeout(60_000);
    await vscode.commands.executeCommand('notifications.clearAll');
    await cancelMidRun(37);
    const edit = new vscode.WorkspaceEdit();
    const at = document.getText().indexOf('26 - 6 = 27');
    edit.replace(document.uri, new vscode.Range(document.positionAt(at), document.positionAt(at + '26 - 6 = 27'.length)), '26 - 6 = 28');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await document.save();
    const rescored = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', analyses());
    assert.ok(rescored);
    const run = requests.at(-1)!;
    assert.deepEqual(run.events.filter((e) => e.kind !== 'kept'), [{ kind: 'startedOver', reason: 'the trace changed since the cancelled run' }]);
    assert.equal(run.progress.find((message) => /^True Thinking Score: (step|resuming)/.test(message)), 'True Thinking Score: step 0 of 37');
  });
});
