// A generated reply scored as Analyze Trace scores a trace: the chat it is analysed as, the analyses a
// trace was made with, and the scores placed back on the reply's own text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analysesOf, hasOwnAnswer, replyScoringChoice, replyTraceText, scoredReply, type WorkspaceDirections } from '../../extension/common/analysis/reply-scores';
import { alignedReplies, annotateReply } from '../../extension/common/analysis/compare';
import { newTraceFile, serializeTraceFile, unscoredStep } from '../../extension/common/bundle/trace-write';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import { parseTrace } from '../../extension/common/trace/parse';
import { answerOf, questionOf, thinkingOf } from '../../extension/common/trace/query';
import { stepsOf } from '../../extension/common/trace/segment';
import { restoredPanel } from '../../extension/vscode/panels/steering';
import { sampleTraceFile } from './bundle-fixtures';

const PROMPT = 'Ben has 77 cookies. He says "hi" and <think>s.\nHow many cookies now?';
// As the reasoner writes it after the template's "<think>\n": the thinking, the closing tag, the answer.
const REPLY = 'Let me follow the cookies.\n\n77 + 2 = 79, so "the end" is 79 - 5 = 74.\n\nWait, let me check: 74 + 5 = 79.\n</think>\n\nThe final answer is \\boxed{74}.';

/** What the engine's analysis of the reply's chat gives back: steps with ranges in the chat JSON and decoded text. */
function analysedChat(prompt: string, reply: string) {
  const text = replyTraceText(prompt, reply);
  const trace = parseTrace(text, { fileName: 'reply.json' });
  const steps = stepsOf(trace, thinkingOf(trace)!, 'paragraph').map((step) =>
    unscoredStep({ index: step.index, start: step.range.start, end: step.range.end, text: step.text, perturbable: /\d/.test(step.text) }),
  );
  return newTraceFile({ toolVersion: 'test', source: { name: 'reply.json', format: 'chat-json', text }, steps, settings: { answer: '74', sealLayer: 2, personaLayer: 3 } });
}

describe('a reply as the chat the model answered', () => {
  it('asks the prompt (escapes and tags in it stay text) and reads the reply\'s thinking and answer', () => {
    const trace = parseTrace(replyTraceText(PROMPT, REPLY), { fileName: 'reply.json' });
    assert.equal(trace.format, 'chat-json');
    assert.equal(questionOf(trace), PROMPT);
    assert.equal(answerOf(trace), 'The final answer is \\boxed{74}.');
    assert.equal(stepsOf(trace, thinkingOf(trace)!, 'paragraph').length, 3);
  });

  it('takes a reply with no thinking tag as thinking throughout, as the comparison does', () => {
    const cut = 'Let me follow the cookies.\n\n77 + 2 = 79';
    const trace = parseTrace(replyTraceText('q', cut), { fileName: 'reply.json' });
    assert.deepEqual(stepsOf(trace, thinkingOf(trace)!, 'paragraph').map((s) => s.text), ['Let me follow the cookies.', '77 + 2 = 79']);
    assert.equal(answerOf(trace), '');
  });

  it('has an answer of its own only with a closed \\boxed{}', () => {
    assert.equal(hasOwnAnswer(REPLY), true);
    assert.equal(hasOwnAnswer('The final answer is \\boxed{7'), false);
    assert.equal(hasOwnAnswer('no answer at all'), false);
  });
});

describe('scores placed on the reply', () => {
  it('puts every step of the analysed chat at its place in the reply, past the JSON escapes', () => {
    const file = analysedChat(PROMPT, REPLY);
    file.steps[1] = { ...file.steps[1], s11: 0.9, tts: 0.97, latentScore: -1.25 };
    const reply = scoredReply(REPLY, file, { tts: true, notScored: [] });
    assert.equal(reply.steps.length, 3);
    for (const step of reply.steps) assert.equal(REPLY.slice(step.start, step.end), step.text);
    assert.equal(reply.steps[1].tts, 0.97);
    assert.equal(reply.steps[1].latentScore, -1.25);
    assert.equal(reply.scoring?.ttsAnswer, '74');
  });

  it('says what was not scored, and keeps no answer when TTS was not run', () => {
    const reply = scoredReply(REPLY, analysedChat(PROMPT, REPLY), { tts: false, notScored: ['no \\boxed{} answer, TTS not scored'] });
    assert.equal(reply.scoring?.ttsAnswer, null);
    assert.deepEqual(reply.scoring?.notScored, ['no \\boxed{} answer, TTS not scored']);
    assert.equal(reply.scoring?.personaProjection, null, 'no turn was projected');
  });

  it('refuses steps that are not the reply\'s', () => {
    const file = analysedChat(PROMPT, REPLY);
    assert.throws(() => scoredReply('another reply', file, { tts: false, notScored: [] }), /step 0 of the analysed reply .* is not in the reply's text/);
  });

  it('saves and loads a comparison of scored replies', () => {
    const baseline = scoredReply(REPLY, analysedChat(PROMPT, REPLY), { tts: true, notScored: [] });
    const steered = annotateReply('Plain text reply.', 'paragraph');
    const file = newTraceFile({ toolVersion: 'test', source: { name: 'r.md', format: 'markdown', text: 'x' }, comparison: alignedReplies(PROMPT, baseline, steered) });
    assert.deepStrictEqual(parseTraceFile(serializeTraceFile(file)).comparison, file.comparison);
  });
});

describe('the analyses a trace was made with', () => {
  it('reads TTS, SEAL with its direction, and persona with its axis from an analysed trace', () => {
    const file = sampleTraceFile();
    const analyses = analysesOf(file);
    assert.equal(analyses.tts, true);
    assert.equal(analyses.seal, true);
    assert.equal(analyses.persona, file.turns.length > 0);
    assert.equal(analyses.sealDirection, file.directions.find((d) => d.method === 'seal')?.name ?? null);
  });

  it('reads keyword classes only from a trace without model scores', () => {
    const steps = sampleTraceFile().steps.map((s) => ({ ...s, tts: null, s11: null, s01: null, s10: null, s00: null, latentScore: null }));
    const analyses = analysesOf({ ...sampleTraceFile(), steps, directions: [], turns: [], answerCheck: null });
    assert.deepEqual(analyses, { tts: false, seal: true, sealLatent: false, sealDirection: null, persona: false, axis: null });
  });
});

describe('what scores the replies', () => {
  const workspace = (saved: { name: string; path: string; kind: 'seal' | 'assistant-axis' }[], remembered: Partial<Record<'seal' | 'assistant-axis', string | null>> = {}): WorkspaceDirections => ({
    usable: (kind) => saved.filter((d) => d.kind === kind),
    remembered: (kind) => (kind in remembered ? { path: remembered[kind]! } : undefined),
  });
  // As Analyze Trace lists the directions it read: by name, with the kind of direction.
  const ref = { hook: 'blocks.{l}.hook_resid_post', layers: [0, 1], modelFingerprint: 'h' };
  const [sealName, axisName] = ['seal-dir', 'axis-dir'];
  const file = { ...sampleTraceFile(), directions: [{ name: sealName, method: 'seal', ...ref }, { name: axisName, method: 'assistant-axis', ...ref }] };

  it('runs the shown trace\'s analyses with the workspace\'s direction of the same name, the remembered one first', () => {
    const directions = workspace(
      [
        { name: sealName, path: '/a/seal', kind: 'seal' },
        { name: sealName, path: '/b/seal', kind: 'seal' },
        { name: axisName, path: '/a/axis', kind: 'assistant-axis' },
      ],
      { seal: '/b/seal' },
    );
    const choice = replyScoringChoice({ name: 'train.md', file }, { tts: false, seal: false, persona: false }, directions);
    assert.deepEqual(choice, { tts: true, sealDirection: '/b/seal', persona: true, axisDirection: '/a/axis', notScored: [], source: 'as train.md was analysed' });
  });

  it('says what it cannot score when the workspace has no such direction', () => {
    const choice = replyScoringChoice({ name: 'train.md', file }, { tts: false, seal: false, persona: false }, workspace([]));
    assert.equal(choice.sealDirection, undefined);
    assert.equal(choice.persona, false);
    assert.equal(choice.notScored.length, 2);
    assert.match(choice.notScored[0], /^SEAL latent score not scored/);
    assert.match(choice.notScored[1], /^persona projection not scored/);
  });

  it('gives keyword classes only to the replies of a trace scored by keywords only', () => {
    const keywordsOnly = { ...file, directions: [], turns: [], steps: file.steps.map((s) => ({ ...s, latentScore: null })) };
    const choice = replyScoringChoice({ name: 'k.md', file: keywordsOnly }, { tts: false, seal: false, persona: false }, workspace([{ name: 'seal', path: '/s', kind: 'seal' }]));
    assert.equal(choice.sealDirection, undefined);
    assert.deepEqual(choice.notScored, []);
  });

  it('without a shown trace, runs Analyze Trace\'s last choice with the remembered or only direction', () => {
    const only = workspace([{ name: 'seal', path: '/s', kind: 'seal' }]);
    assert.equal(replyScoringChoice(null, { tts: true, seal: true, persona: false }, only).sealDirection, '/s');
    const keywords = workspace([{ name: 'seal', path: '/s', kind: 'seal' }], { seal: null });
    assert.equal(replyScoringChoice(null, { tts: true, seal: true, persona: false }, keywords).sealDirection, undefined, 'the workspace chose keyword classes only');
    assert.equal(replyScoringChoice(null, { tts: true, seal: true, persona: false }, only).source, 'as Analyze Trace last ran');
  });
});

describe('a restored panel', () => {
  it('marks a reply that was being scored as interrupted', () => {
    const reply = { status: 'scoring', prompt: 'p', steering: [], baseline: null, steered: { text: 'done', done: true }, comparison: null, warnings: [], error: null, progress: 'Scoring…' };
    const restored = restoredPanel({ state: { view: 'steering' }, reply }).reply;
    assert.equal(restored?.status, 'interrupted');
    assert.equal(restored?.progress, null);
  });
});
