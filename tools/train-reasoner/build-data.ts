// Writes the reasoner's tokenizer files into the model folder and its training and held-out sets,
// tokenized with that tokenizer (the engine's own TextTokenizer), as the trainer reads them.
//
//   npx tsx tools/train-reasoner/build-data.ts --model media/models/thinkscope-reasoner --out tmp/reasoner-data
//
// Each example is one token sequence: a trunk (a whole chat) and branches that share a prefix of it.
// A branch is an early exit — the TTS cue and the answer the prefix implies — optionally after a
// perturbed copy of the step it follows; the trainer's attention mask lets a branch see the trunk only
// up to its cut and itself. Trunks are tokenized in two ways, as step pieces (each step with the blank
// line before it, encoded alone) and as the whole text (".\n\n" merges across a step boundary), so the
// model reads both tokenizations the product may give it. With --gate-share, that share of the math
// examples turns one step's use around and marks its tokens for the trainer's interchange intervention
// (train.py --gate-layer): see the README.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { perturbNumbers, isPerturbable } from '../../extension/common/analysis/perturb';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { trainedTokenizer } from '../../extension/engine/make-model/bpe-tokenizer';
import { DEFAULT_TTS_CUE } from '../../extension/engine/analysis/tts/layout';
import { reasonerFiles } from './model-files';
import { answerAfter, between, makeProblem, pick, seededRandom, traceMarkdown, type CheckForm, type Problem, type Random, type StepKind } from './problems';
import { characterOf, extraRolePrompts, makeChat, type PersonaSource } from './personas';
import roles from '../../media/roles/roles.json';
import questions from '../../media/roles/questions.json';
import defaults from '../../media/roles/default.json';

interface Example {
  tokens: number[];
  positions: number[];
  /** 0 for the trunk, k for branch k. */
  segments: number[];
  /** For a branch token: how many trunk tokens it sees; −1 for trunk tokens. */
  limits: number[];
  /** The token this position must predict, or −1. */
  labels: number[];
  /** Which kind of step the token belongs to: 1 a true step, 2 a check, 0 anything else. */
  stepKinds: number[];
  /** A step whose use the trainer sets through the gate direction: 1 used, −1 ignored, 0 as it is. */
  gates: number[];
}

/** What the trainer learns of each token of a piece: the kind of step it belongs to, and its gate. */
interface TokenMarks {
  stepKinds: number[];
  gates: number[];
}

const unmarked = (n: number): TokenMarks => ({ stepKinds: new Array<number>(n).fill(0), gates: new Array<number>(n).fill(0) });

class ExampleBuilder {
  readonly example: Example = { tokens: [], positions: [], segments: [], limits: [], labels: [], stepKinds: [], gates: [] };
  private trunkLength = 0;
  private branches = 0;

  /** Appends trunk tokens; `learn` makes each of them a target of the token before it. */
  trunk(ids: readonly number[], learn: boolean, marks = unmarked(ids.length)): number {
    const e = this.example;
    for (const [k, id] of ids.entries()) {
      if (learn && this.trunkLength > 0) e.labels[this.trunkLength - 1] = id;
      e.stepKinds.push(marks.stepKinds[k]);
      e.gates.push(marks.gates[k]);
      e.tokens.push(id);
      e.positions.push(this.trunkLength);
      e.segments.push(0);
      e.limits.push(-1);
      e.labels.push(-1);
      this.trunkLength++;
    }
    return this.trunkLength;
  }

  /** A branch after the first `cut` trunk tokens: `context` tokens read, then `target` tokens learned. */
  branch(cut: number, context: readonly number[], target: readonly number[], marks = unmarked(context.length)): void {
    const e = this.example;
    const segment = ++this.branches;
    const ids = [...context, ...target];
    ids.forEach((id, k) => {
      e.stepKinds.push(marks.stepKinds[k] ?? 0);
      e.gates.push(marks.gates[k] ?? 0);
      e.tokens.push(id);
      e.positions.push(cut + k);
      e.segments.push(segment);
      e.limits.push(cut);
      e.labels.push(k + 1 < ids.length && k + 1 >= context.length ? ids[k + 1] : -1);
    });
  }
}

const REASONER_CUE = DEFAULT_TTS_CUE;

interface Tokenizers {
  text: TextTokenizer;
  imEnd: number;
}

/** Which tokens of a step carry its kind and gate: all of them (`step`), or its last one, where a TrueThinking direction is read. */
type GateTokens = 'step' | 'last';

/** The step kinds the trainer tells apart, as it reads them. */
const KIND_CODES: Partial<Record<StepKind, number>> = { true: 1, check: 2 };

/**
 * A math example: the trace (intact or with some steps perturbed) and early exits after its steps.
 * With `flip`, that step's use is turned around through the gate direction (a check used, a true step
 * ignored) and every exit after it answers as if its kind were the other one; the trace is then not learned.
 */
function mathExample(random: Random, tok: Tokenizers, problem: Problem, flip: number | null = null, gateTokens: GateTokens = 'step'): Example {
  const b = new ExampleBuilder();
  const encode = (s: string) => tok.text.encode(s);
  const prompt = tok.text.applyChatTemplate([{ role: 'user', content: problem.question }], { addGenerationPrompt: true });
  const intact = problem.steps.map((s) => s.text);
  const perturbTrunk = random() < 0.5;
  const texts = intact.map((text, i) => (perturbTrunk && isPerturbable(text) && random() < 0.5 ? perturbNumbers(text, between(random, 0, 1 << 30), i).text : text));
  const learnTrunk = flip === null && texts.every((t, i) => t === intact[i]);
  const lead = random() < 0.5 ? '' : '\n';
  const joint = random() < 0.5;
  const cue = encode(REASONER_CUE);
  const answerIds = (n: number) => [...encode(String(n)), ...encode('}')];
  const ending = `\n</think>\n\n${problem.reply}`;
  const answering: Problem = flip === null ? problem : { ...problem, steps: problem.steps.map((s, k) => (k === flip ? { ...s, kind: s.kind === 'true' ? 'check' : 'true' } : s)) };
  /** The ids of `before + stepText + after`, the tokens that start inside the step marked with step i's kind and gate. */
  const encodeStep = (before: string, stepText: string, after: string, i: number) => {
    const { ids, offsets } = tok.text.encodeWithOffsets(before + stepText + after);
    const within = offsets.map(([start]) => start >= before.length && start < before.length + stepText.length);
    const lastToken = within.lastIndexOf(true);
    const inside = gateTokens === 'last' ? within.map((_, k) => k === lastToken) : within;
    const kind = KIND_CODES[problem.steps[i].kind] ?? 0;
    const gate = i !== flip ? 0 : problem.steps[i].kind === 'true' ? -1 : 1;
    return { ids, marks: { stepKinds: inside.map((x) => (x ? kind : 0)), gates: inside.map((x) => (x ? gate : 0)) } };
  };

  const cuts: number[] = [b.trunk(encode(prompt), false)];
  // Piece i: the step with the separator before it (pieces), or with the separator after it (joint).
  texts.forEach((text, i) => {
    const before = i === 0 ? lead : joint ? '' : '\n\n';
    const after = joint ? (i + 1 < texts.length ? '\n\n' : ending) : '';
    const { ids, marks } = encodeStep(before, text, after, i);
    cuts.push(b.trunk(ids, learnTrunk, marks));
  });
  if (!joint) b.trunk(encode(ending), learnTrunk);
  b.trunk([tok.imEnd], learnTrunk);

  texts.forEach((text, i) => {
    const before = i === 0 ? lead : joint ? '' : '\n\n';
    const exit = (stepText: string, prefix: readonly string[]) => {
      const answer = answerAfter(answering, [...prefix, stepText]);
      if (answer === null) return;
      if (joint) {
        const { ids, marks } = encodeStep(before, stepText, REASONER_CUE, i);
        b.branch(cuts[i], ids, answerIds(answer), marks);
      } else if (stepText === text) b.branch(cuts[i + 1], cue, answerIds(answer));
      else {
        const { ids, marks } = encodeStep(before, stepText, '', i);
        b.branch(cuts[i], [...ids, ...cue], answerIds(answer), marks);
      }
    };
    const prefix = texts.slice(0, i);
    exit(text, prefix);
    if (isPerturbable(intact[i]) && random() < 0.7) exit(text === intact[i] ? perturbNumbers(text, between(random, 0, 1 << 30), i).text : intact[i], prefix);
  });
  return b.example;
}

/** A step whose use a gated example turns around: a true step or a check with numbers, or null for none. */
function stepToFlip(random: Random, problem: Problem): number | null {
  const candidates = problem.steps.flatMap((s, i) => ((s.kind === 'true' || s.kind === 'check') && isPerturbable(s.text) ? [i] : []));
  return candidates.length ? pick(random, candidates) : null;
}

/** A chat example: every assistant reply is learned; some final replies think first. */
function chatExample(random: Random, tok: Tokenizers, source: PersonaSource): Example {
  const b = new ExampleBuilder();
  const { messages, roleTurns } = makeChat(random, source);
  const last = messages.length - 1;
  const history = tok.text.applyChatTemplate(messages.slice(0, last), { addGenerationPrompt: false });
  const reply = messages[last].content;
  const think = random() < 0.3;
  b.trunk(tok.text.encode(history), false);
  const thinking = roleTurns[roleTurns.length - 1]
    ? `<think>\nI should answer as ${characterOf(messages.find((m) => m.role === 'system')?.content ?? messages[last - 1].content.replace(/^From now on, /, '').split('. ')[0])}.\n</think>\n\n`
    : '<think>\nI should answer as a helpful assistant.\n</think>\n\n';
  const generationPrompt = tok.text.applyChatTemplate(messages.slice(0, last), { addGenerationPrompt: true, variables: { enable_thinking: think } });
  const tail = generationPrompt.slice(history.length);
  b.trunk(tok.text.encode(tail), false);
  b.trunk(tok.text.encode((think ? thinking : '') + reply), true);
  b.trunk([tok.imEnd], true);
  return b.example;
}

const EXAMPLE_FIELDS = 7;

async function writeSet(dir: string, name: string, examples: Example[]): Promise<number> {
  const lengths = examples.map((e) => e.tokens.length);
  const total = lengths.reduce((a, b) => a + b, 0);
  const data = new Int32Array(total * EXAMPLE_FIELDS);
  let at = 0;
  for (const e of examples) {
    for (const field of [e.tokens, e.positions, e.segments, e.limits, e.labels, e.stepKinds, e.gates]) {
      data.set(field, at);
      at += field.length;
    }
  }
  await writeFile(join(dir, `${name}.bin`), new Uint8Array(data.buffer));
  await writeFile(join(dir, `${name}.json`), JSON.stringify({ fields: EXAMPLE_FIELDS, lengths }));
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'media/models/thinkscope-reasoner' },
      out: { type: 'string', default: 'tmp/reasoner-data' },
      train: { type: 'string', default: '24000' },
      heldout: { type: 'string', default: '600' },
      seed: { type: 'string', default: '1' },
      checks: { type: 'string', default: 'inverse' },
      'gate-share': { type: 'string', default: '0' },
      'gate-tokens': { type: 'string', default: 'step' },
    },
  });
  const files = reasonerFiles();
  await mkdir(values.model!, { recursive: true });
  await mkdir(values.out!, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(values.model!, name), JSON.stringify(content, null, 2) + '\n');
  const text = new TextTokenizer(files['tokenizer.json'], files['tokenizer_config.json'], values.model!);
  const tok: Tokenizers = { text, imEnd: trainedTokenizer().specialIds.imEnd };

  const source: PersonaSource = {
    defaultPrompts: [...defaults.systemPrompts, 'You are a helpful assistant.'],
    rolePrompts: [...roles.roles.flatMap((r) => r.systemPrompts), ...extraRolePrompts()],
    questions: [...questions.questions],
  };
  const seed = Number(values.seed);
  const checks = values.checks as CheckForm;
  if (checks !== 'inverse' && checks !== 'restate') throw new Error(`--checks must be inverse or restate, not ${values.checks}`);
  const gateShare = Number(values['gate-share']);
  if (!(gateShare >= 0 && gateShare < 1)) throw new Error(`--gate-share must be in [0, 1), not ${values['gate-share']}`);
  const gateTokens = values['gate-tokens'] as GateTokens;
  if (gateTokens !== 'step' && gateTokens !== 'last') throw new Error(`--gate-tokens must be step or last, not ${values['gate-tokens']}`);
  const random = seededRandom(seed);
  // Held-out problems are drawn from their own stream and never appear in training.
  const heldout: Problem[] = [];
  const heldoutRandom = seededRandom(seed + 1_000_003);
  const seen = new Set<string>();
  while (heldout.length < Number(values.heldout)) {
    const p = makeProblem(heldoutRandom, checks);
    if (seen.has(p.question)) continue;
    seen.add(p.question);
    heldout.push(p);
  }
  const train: Example[] = [];
  let skipped = 0;
  while (train.length < Number(values.train)) {
    if (random() < 0.1) {
      train.push(chatExample(random, tok, source));
      continue;
    }
    const p = makeProblem(random, checks);
    if (seen.has(p.question)) {
      skipped++;
      continue;
    }
    train.push(mathExample(random, tok, p, gateShare > 0 && random() < gateShare ? stepToFlip(random, p) : null, gateTokens));
  }
  const tokens = await writeSet(values.out!, 'train', train);
  await writeFile(join(values.out!, 'heldout.json'), JSON.stringify(heldout.map((p) => ({ ...p, markdown: traceMarkdown(p) }))));
  // A few held-out examples in training layout, for the validation loss.
  const valid = heldout.slice(0, 200).map((p) => mathExample(seededRandom(p.answer * 7919 + p.start), tok, p));
  await writeSet(values.out!, 'valid', valid);
  console.log(`${train.length} training examples (${tokens} tokens; ${skipped} held-out questions skipped), ${heldout.length} held-out problems`);
  console.log('example:\n' + text.decode(train.find((e) => e.segments.some((s) => s > 0))!.tokens.slice(0, 400)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
