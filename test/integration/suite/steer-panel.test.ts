// The Steering panel's Generate on the trained reasoner: both replies are scored by the analyses the shown
// trace was made with (TTS against each reply's own \boxed{} answer, SEAL classes and latent score,
// persona projection with its floor), and each score equals what Analyze Trace gives for the same text.
import * as assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { hasOwnAnswer, NO_BOXED_ANSWER, replyTraceText } from '../../../extension/common/analysis/reply-scores';
import type { ReplyRecord, TraceFile } from '../../../extension/common/bundle/trace-file';
import { boxedAnswer } from '../../../extension/common/trace/query';
import type { LoadedDirection } from '../../../extension/common/webview-protocol';
import type { ThinkScopeApi } from '../../../extension/vscode/extension';
import type { ThinkScopePanel } from '../../../extension/vscode/panels';
import { fixture, thinkScope, useModel, workspaceFile } from './support';

const PROMPT = 'Ben has 77 cookies. Ben wins 2 more, then sells 5, then gives away 2. How many cookies now?';

describe('Steering panel: both replies scored as Analyze Trace scores', function () {
  // Each test generates a pair and scores it, then analyses both replies again to compare.
  this.timeout(240_000);
  let api: ThinkScopeApi;
  let panel: ThinkScopePanel;
  let seal: LoadedDirection;
  let axis: LoadedDirection;
  const written: vscode.Uri[] = [];

  /** Analyze Trace on a document holding `text`, with the analyses and directions given. */
  async function analyzeText(name: string, text: string, analyses: { tts: boolean; seal: boolean; persona: boolean }): Promise<TraceFile> {
    const uri = workspaceFile(name);
    written.push(uri);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri, ...analyses, lens: false, sealDirection: seal.path, axisDirection: axis.path });
    assert.ok(file, `Analyze Trace returned nothing for ${name}`);
    return file;
  }

  before(async function () {
    // Loading the model, building an axis and scoring a trace with TTS take a while on a busy machine.
    this.timeout(240_000);
    api = await thinkScope();
    await useModel(api);
    seal = await api.directions.addFolder(fixture('THINKSCOPE_TEST_DIRECTION'));
    // The axis an earlier suite built, else one built now (bundled roles, quick), as a user would.
    const hash = api.engine.state.model?.weightsHash;
    axis =
      api.directions.all().find((d) => d.method === 'assistant-axis' && d.model?.weightsHash === hash) ??
      (await vscode.commands.executeCommand<LoadedDirection>('thinkscope.buildDirection', { kind: 'assistant-axis', inputs: [], out: join(tmpdir(), `thinkscope-axis-${Date.now()}`), options: { fast: true } }));
    assert.ok(axis, 'no Assistant Axis could be built');

    // The trace the panel shows (it follows the active editor), analysed with TTS, SEAL (latent) and persona drift.
    const trace = workspaceFile('reasoner-trace.md');
    await vscode.window.showTextDocument(trace, { viewColumn: vscode.ViewColumn.One });
    panel = await vscode.commands.executeCommand<ThinkScopePanel>('thinkscope.openPanel', { view: 'steering' });
    const file = await vscode.commands.executeCommand<TraceFile | undefined>('thinkscope.analyzeTrace', { uri: trace, tts: true, seal: true, persona: true, lens: false, sealDirection: seal.path, axisDirection: axis.path });
    assert.ok(file && file.turns.length > 0 && file.steps.some((s) => s.tts !== null && s.latentScore !== null), 'the shown trace was not analysed with TTS, SEAL latent and persona');
    await panel.whenRendered((r) => r.traceName === file.source.name && r.view === 'steering', 60_000);
  });

  after(async () => {
    panel?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of written) await vscode.workspace.fs.delete(uri);
  });

  /** A reply's scores against Analyze Trace's for the reply's chat: per step, and the persona projection. */
  async function assertScoredAsAnalyze(name: string, reply: ReplyRecord): Promise<void> {
    const scoring = reply.scoring;
    assert.ok(scoring, `the ${name} reply was not scored`);
    const answered = hasOwnAnswer(reply.text);
    const expected = await analyzeText(`steered-pair-${name}.json`, replyTraceText(PROMPT, reply.text), { tts: answered, seal: true, persona: true });
    assert.ok(reply.steps.length > 0, `the ${name} reply has no steps`);
    assert.deepEqual(
      reply.steps.map((s) => s.text),
      expected.steps.map((s) => s.text),
      `the ${name} reply's steps are not Analyze Trace's`,
    );
    reply.steps.forEach((step, i) => {
      const other = expected.steps[i];
      assert.equal(reply.text.slice(step.start, step.end), step.text, `${name} step ${i} is placed on its own text`);
      for (const key of ['tts', 's11', 's01', 's10', 's00', 'sealClass', 'sealKeyword', 'latentScore'] as const) {
        assert.equal(step[key], other[key], `${name} step ${i}: ${key} ${step[key]} ≠ Analyze Trace's ${other[key]}`);
      }
    });
    // SEAL: classes and the latent score from the workspace's SEAL direction.
    assert.equal(scoring.sealDirection, seal.name);
    assert.ok(reply.steps.every((s) => s.sealClass !== null && s.latentScore !== null), `${name}: a step has no SEAL class or latent score`);
    // Persona: the reply as the assistant's turn, on the axis, with its floor.
    assert.equal(scoring.axis, axis.name);
    assert.equal(scoring.personaProjection, expected.turns.at(-1)?.projection);
    assert.equal(scoring.personaFloor, expected.personaFloor);
    assert.ok(Number.isFinite(scoring.personaProjection) && Number.isFinite(scoring.personaFloor), `${name}: persona ${scoring.personaProjection}, floor ${scoring.personaFloor}`);
    // TTS: against the reply's own answer, or a note instead of a number.
    if (answered) {
      assert.equal(scoring.ttsAnswer, boxedAnswer(reply.text));
      assert.ok(reply.steps.some((s) => s.tts !== null), `${name}: no step has a TTS`);
    } else {
      assert.ok(scoring.notScored.includes(NO_BOXED_ANSWER), `${name}: says ${JSON.stringify(scoring.notScored)}`);
      assert.ok(reply.steps.every((s) => s.tts === null), `${name}: a TTS without an answer to measure`);
    }
  }

  it('scores the baseline and the steered reply as the shown trace was analysed, equal to Analyze Trace on the same text', async () => {
    // Strength 1 drops a reflection step and still ends in an answer; from 2 this model keeps thinking past
    // 160 tokens, and a reply that is all thinking has no turn for persona to score.
    const reply = await panel.generate({ steering: [{ direction: seal.path, method: 'calibrate', strength: 1 }], prompt: PROMPT, compare: true, maxTokens: 160 });
    assert.equal(reply.status, 'done', `${reply.status}: ${reply.error} ${reply.warnings.join('; ')}`);
    assert.match(reply.scoredAs ?? '', /as reasoner-trace\.md was analysed/);
    const comparison = reply.comparison;
    assert.ok(comparison, 'no comparison');
    assert.ok(hasOwnAnswer(comparison.baseline.text), `the baseline reply has no \\boxed{} answer: ${comparison.baseline.text}`);
    await assertScoredAsAnalyze('baseline', comparison.baseline);
    await assertScoredAsAnalyze('steered', comparison.steered);
    const report = await panel.whenRendered((r) => r.replyStatus === 'done' && r.alignedRows === comparison.alignment.length, 15_000);
    assert.ok(report.alignedRows > 0);
  });

  it('scores a steered reply generated without a baseline on its own, equal to Analyze Trace on the same text', async () => {
    // The panel in view again (the earlier tests' Analyze Trace opened documents over it), as a user generating from it.
    await vscode.commands.executeCommand('thinkscope.openPanel', { view: 'steering' });
    const reply = await panel.generate({ steering: [{ direction: seal.path, method: 'calibrate', strength: 1 }], prompt: PROMPT, compare: false, maxTokens: 160 });
    assert.equal(reply.status, 'done', `${reply.status}: ${reply.error} ${reply.warnings.join('; ')}`);
    assert.equal(reply.baseline, null);
    assert.equal(reply.comparison, null);
    const scored = reply.scored;
    assert.ok(scored, 'the lone steered reply was not scored');
    assert.equal(scored.text, reply.steered.text);
    await panel.whenRendered((r) => r.replyStatus === 'done' && r.alignedRows === scored.steps.length, 15_000);
    await assertScoredAsAnalyze('lone-steered', scored);
  });

  it('says "no \\boxed{} answer, TTS not scored" for replies cut before their answer', async () => {
    const reply = await panel.generate({ steering: [{ direction: seal.path, method: 'calibrate', strength: 4 }], prompt: PROMPT, compare: true, maxTokens: 24 });
    assert.equal(reply.status, 'done', `${reply.status}: ${reply.error}`);
    for (const record of [reply.comparison!.baseline, reply.comparison!.steered]) {
      assert.equal(hasOwnAnswer(record.text), false, record.text);
      assert.deepEqual(record.scoring?.notScored, [NO_BOXED_ANSWER]);
      assert.equal(record.scoring?.ttsAnswer, null);
      assert.ok(record.steps.every((s) => s.tts === null));
    }
  });

  it('Cancel while scoring stops it and keeps the keyword classes', async () => {
    // Cancel once the engine reports scoring progress, as a user clicking Cancel while it runs.
    let progress = '';
    const listening = panel.onDidChangeReply((state) => {
      if (state.status !== 'scoring' || !state.progress || progress) return;
      progress = state.progress;
      panel.cancelGeneration();
    });
    const reply = await panel.generate({ steering: [{ direction: seal.path, method: 'calibrate', strength: 4 }], prompt: PROMPT, compare: true, maxTokens: 160 });
    listening.dispose();
    assert.match(progress, /^Scoring the baseline reply \(1 of 2\): /);
    assert.equal(reply.status, 'cancelled');
    assert.ok(reply.comparison && reply.comparison.steered.steps.length > 0, 'the keyword comparison is kept');
    assert.ok(!reply.comparison.baseline.scoring && !reply.comparison.steered.scoring, 'a reply shows scores although scoring was cancelled');
  });
});
