// The engine killed in the middle of an analysis (as the OOM killer would): the request fails with
// a plain message, the results so far stay, and the next request starts a new engine that has the
// model loaded again.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TraceFile } from '../../../extension/common/bundle/trace-file';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import { fixture, thinkScope, useModel, waitFor, workspaceFile } from './support';

describe('ThinkScope engine recovery', () => {
  let api: ThinkScopeApi;
  let document: vscode.TextDocument;

  before(async () => {
    api = await thinkScope();
    // The random model, not the trained reasoner: this test needs an analysis slow enough to be killed in
    // the middle, and the reasoner scores any trace that fits its 1,024 positions in well under a second.
    // A copy of the 37-step test fixture (test/fixtures/sample-trace.md, its results apart from the other
    // suites'): scoring its steps takes four model runs each, long enough to be killed in the middle.
    await useModel(api, 'THINKSCOPE_TEST_RANDOM_MODEL');
    await vscode.workspace.fs.copy(workspaceFile('sample-trace.md'), workspaceFile('recovery-trace.md'), { overwrite: true });
    document = await vscode.workspace.openTextDocument(workspaceFile('recovery-trace.md'));
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('fails the running request plainly, keeps the results, and restarts with the model on the next request', async () => {
    let killedPid: number | undefined;
    const killer = api.results.onDidChange(({ uri, file }) => {
      // Kill once a step is scored: mid-run, with partial results on screen.
      if (!killedPid && uri.toString() === document.uri.toString() && file && file.steps.some((s) => s.s11 !== null)) {
        killedPid = api.enginePid();
        process.kill(killedPid!, 'SIGKILL');
      }
    });
    const outcome = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: document.uri, tts: true, seal: true });
    killer.dispose();
    assert.ok(killedPid, 'the analysis ended before it could be killed');
    assert.equal(outcome, undefined, 'the killed analysis still returned a result');
    const kept = api.results.get(document.uri);
    assert.ok(kept && kept.steps.some((s) => s.s11 !== null), 'the steps scored before the crash are gone');
    await waitFor('the engine to be reported stopped', () => api.engine.state.status === 'stopped');

    // The next request starts a new engine, which loads the model again before analysing (an
    // analysis without a model fails). Killed too, it fails with the same plain message.
    let secondPid: number | undefined;
    const pending = api.engine.request(
      'analyzeTrace',
      { text: document.getText(), fileName: 'recovery-trace.md', segmentation: 'sentence', tts: true, seal: false, persona: false },
      {
        onNotification: (method) => {
          if (method !== 'analysisSnapshot' || secondPid) return;
          secondPid = api.enginePid();
          process.kill(secondPid!, 'SIGKILL');
        },
      },
    );
    await assert.rejects(pending, /: The ThinkScope engine stopped \(.*\); your results are kept\. It will restart on the next request\.$/);
    assert.ok(secondPid && secondPid !== killedPid, 'no new engine analysed the trace');

    const result = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: document.uri, tts: false, seal: true });
    assert.ok(result, 'the analysis after the restart failed');
    assert.ok(result.steps.length > 10);
    assert.ok(api.enginePid() && api.enginePid() !== secondPid);
    assert.equal(api.engine.state.model?.path, fixture('THINKSCOPE_TEST_RANDOM_MODEL'));
    assert.equal(api.engine.state.status, 'idle');
  });
});
