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
    // Panels and views left open by earlier suites would redraw at every step while the Cancel waits.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('notifications.hideList');
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
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  });

  const analyses = () => ({ uri: document.uri, tts: true, seal: false, persona: false, lens: false });

  /**
   * Presses the newest notification's first button, as Ctrl+Shift+A does on a focused toast: without the
   * focus, the command acts on the notification a list focused last, which an earlier suite may have left.
   */
  async function pressNewestNotification(): Promise<void> {
    await vscode.commands.executeCommand('notifications.focusFirstToast');
    await vscode.commands.executeCommand('notification.acceptPrimaryAction');
  }

  /**
   * Runs the analysis and presses Cancel in its progress notification, again every 100 ms until the
   * request ends (a press waits while the workbench is busy drawing the steps as they arrive). The first
   * try presses once a step is scored; where the run ended before the press landed, the next try
   * presses earlier (while the trace is read, then as the run starts), and so on for a few rounds: how
   * long a press takes to land depends on the machine, and the reasoner's run is short.
   */
  async function cancelMidRun(total: number): Promise<{ kept: number; total: number }> {
    const triggers: ((run: Observed) => boolean)[] = [
      (run) => run.events.some((e) => e.kind === 'kept'),
      (run) => run.progress.some((message) => message.includes('reading the trace')),
      () => true,
    ];
    const tries: string[] = [];
    for (const trigger of [...triggers, ...triggers, ...triggers]) {
      const before = requests.length;
      let presses = 0;
      const pressing = (async () => {
        const run = await waitFor('the analysis request', () => requests.length > before && requests.at(-1)!);
        let ended = false;
        void run.done.then(() => (ended = true));
        while (!ended && !trigger(run)) await new Promise((resolve) => setTimeout(resolve, 10));
        while (!ended) {
          presses++;
          await pressNewestNotification();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const cancelled = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', analyses());
      await pressing;
      const run = requests.at(-1)!;
      assert.equal(run.params.document, document.uri.toString());
      const kept = run.events.filter((e) => e.kind === 'kept').at(-1);
      tries.push(`${presses} presses of Cancel, ${cancelled === undefined ? 'cancelled' : 'ended'}, ${JSON.stringify(kept)}`);
      // A cancel that landed before the first pack was scored keeps nothing to resume: try again.
      if (cancelled === undefined && kept?.kind === 'kept' && kept.kept > 0) {
        assert.ok(kept.kept < total, `the cancel landed mid-run: ${tries.join('; ')}`);
        return kept;
      }
      await vscode.commands.executeCommand('notifications.clearAll');
    }
    assert.fail(`no Cancel landed mid-run: ${tries.join('; ')}`);
  }

  it('Cancel keeps the steps scored, Resume goes on at the next step, and the scores equal an uninterrupted run', async function () {
    this.timeout(120_000);
    const uninterrupted = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', analyses());
    assert.ok(uninterrupted, 'the uninterrupted run returned no trace');
    const total = uninterrupted.steps.length;
    assert.equal(total, 37);
    assert.equal(uninterrupted.answerCheck?.agrees, true);
    await vscode.commands.executeCommand('notifications.clearAll');

    const kept = await cancelMidRun(total);

    // The notification after the cancel offers Resume first.
    const before = requests.length;
    // Pressed again only when nothing came of a press: a later press would cancel the resumed run.
    await waitFor('Resume in the notification after the cancel', async () => {
      await pressNewestNotification();
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
