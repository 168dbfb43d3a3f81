// The synthetic task the reasoner learns: short word problems (a start count, then two or three
// changes) solved in a chain of thought whose steps are, by construction,
//  - true: "27 + 4 = 31, so the end is 31 - 2 = 29." — the running total, carried through the changes
//    still to come; an early exit answers with the last number of the last true step;
//  - decorative: "Wait, let me check: 27 + 4 = 31." — a check after every subtraction, whose numbers
//    are noise half of the time and never feed the answer;
//  - transition: "Alternatively, …" — after a check that did not add up; no numbers;
//  - an opening execution step that restates the goal; no numbers.
// The answer after any prefix (what an early exit must say) is `answerAfter`: the end total stated by
// the last true step. A perturbed true step therefore moves the answer; a perturbed check never does.

import { mulberry32 } from '../../extension/common/analysis/perturb';

export type StepKind = 'goal' | 'true' | 'check' | 'transition';

export interface ProblemStep {
  kind: StepKind;
  text: string;
  /** For true steps: which change of the question it applies (0-based). */
  change: number | null;
}

export interface Problem {
  question: string;
  start: number;
  changes: number[];
  steps: ProblemStep[];
  answer: number;
  /** The reply after the thinking. */
  reply: string;
}

export type Random = () => number;

/**
 * How a check states its numbers: `inverse` undoes the change (`74 + 5 = 79`); `restate` repeats the
 * true step it follows word for word (end total included), so it differs from a true step only by its opening.
 */
export type CheckForm = 'inverse' | 'restate';

export const seededRandom = (seed: number): Random => mulberry32(seed);
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
export const between = (random: Random, low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

const NAMES = ['Ann', 'Ben', 'Cleo', 'Dev', 'Eva', 'Finn', 'Gia', 'Hugo', 'Iris', 'Jon', 'Kai', 'Lena', 'Milo', 'Nora', 'Omar', 'Pia', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Uma', 'Vik', 'Wren', 'Yara', 'Zed'];
const ITEMS = ['marbles', 'apples', 'stamps', 'coins', 'shells', 'cards', 'books', 'pens', 'stickers', 'beads', 'eggs', 'plums', 'rocks', 'buttons', 'tickets', 'cookies'];
const GAINS = ['gets', 'finds', 'buys', 'wins'];
const LOSSES = ['gives away', 'loses', 'sells', 'uses'];
const GOALS = [
  'I need the number of {items} at the end',
  'Let me follow the {items} one change at a time',
];
const TRUE_STEPS = ['{prev} {op} {delta} = {next}', 'So {prev} {op} {delta} = {next}', 'Now {prev} {op} {delta} = {next}'];
/** How a true step that is not the last carries its total to the end. */
const CARRIES = [', so the end is {rest}', ', which makes {rest} in the end', ', and then {rest}'];
const CHECKS = [
  'Wait, let me check: {a} {op} {b} = {c}',
  'Let me verify: {a} {op} {b} = {c}',
  'Wait, is that right? {a} {op} {b} = {c}',
];
/** The openings of the checks, before the numbers they state. */
const CHECK_OPENINGS = ['Wait, let me check:', 'Let me verify:', 'Wait, is that right?'];
const TRANSITIONS = [
  'Alternatively, I go on from there',
  'Let me try another way',
  'Alternatively, I keep going',
];

const fill = (template: string, values: Record<string, string | number>): string =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key]));

/**
 * One problem with two or three changes of 1..6. Every running total stays in the decade it starts in
 * (no carries), so the arithmetic the chain of thought writes stays within the units digit.
 */
export function makeProblem(random: Random, checks: CheckForm = 'inverse'): Problem {
  const name = pick(random, NAMES);
  const items = pick(random, ITEMS);
  const count = random() < 0.6 ? 2 : 3;
  const decade = between(random, 2, 8) * 10;
  let total = decade + between(random, 0, 9);
  const start = total;
  const changes: number[] = [];
  while (changes.length < count) {
    const delta = between(random, 1, 6) * (random() < 0.5 ? 1 : -1);
    if (total + delta < decade || total + delta > decade + 9) continue;
    changes.push(delta);
    total += delta;
  }
  const phrases = changes.map((d) => (d > 0 ? `${pick(random, GAINS)} ${d} more` : `${pick(random, LOSSES)} ${-d}`));
  const question =
    `${name} has ${start} ${items}. ${name} ${phrases.join(', then ')}. How many ${items} now?`;

  const steps: ProblemStep[] = [{ kind: 'goal', text: fill(pick(random, GOALS), { name, items }) + '.', change: null }];
  let running = start;
  changes.forEach((delta, change) => {
    const next = running + delta;
    const op = delta > 0 ? '+' : '-';
    // A true step that is not the last carries its total through the changes still to come.
    const later = changes.slice(change + 1);
    const rest = later.length ? `${next} ${later.map((d) => `${d > 0 ? '+' : '-'} ${Math.abs(d)}`).join(' ')} = ${next + later.reduce((a, b) => a + b, 0)}` : '';
    const carry = rest ? fill(pick(random, CARRIES), { rest }) : '';
    const body = fill(pick(random, TRUE_STEPS), { prev: running, op, delta: Math.abs(delta), next }) + carry;
    steps.push({ kind: 'true', text: body + '.', change });
    // A check after every subtraction, or noise half of the time: the inverse operation, or (restating
    // checks) the true step's own words after the check's opening, so that only the opening tells the
    // model that this step is not to be used.
    if (delta < 0) {
      const noisy = random() < 0.5;
      const check = noisy
        ? { a: between(random, 20, 89), op: pick(random, ['+', '-']), b: between(random, 1, 6), c: between(random, 20, 89) }
        : checks === 'restate'
          ? { a: running, op, b: Math.abs(delta), c: next }
          : { a: next, op: delta > 0 ? '-' : '+', b: Math.abs(delta), c: running };
      const text = checks === 'restate' && !noisy
        ? `${pick(random, CHECK_OPENINGS)} ${body.replace(/^(So|Now) /, '')}.`
        : fill(pick(random, CHECKS), check) + '.';
      steps.push({ kind: 'check', text, change: null });
      // A check that does not add up is followed by a change of approach, when there is more to do.
      const addsUp = check.op === '+' ? check.a + check.b === check.c : check.a - check.b === check.c;
      if (!addsUp && change + 1 < changes.length) steps.push({ kind: 'transition', text: pick(random, TRANSITIONS) + '.', change: null });
    }
    running = next;
  });
  return { question, start, changes, steps, answer: running, reply: `The final answer is \\boxed{${running}}.` };
}

const NUMBER = /[-+]?\d+/g;

/**
 * The answer an early exit after `texts` (the first steps, possibly perturbed) must give: the last
 * number of the last true step (every true step carries its total to the end); null before the first.
 */
export function answerAfter(problem: Problem, texts: readonly string[]): number | null {
  for (let i = texts.length - 1; i >= 0; i--) {
    if (problem.steps[i].kind !== 'true') continue;
    const numbers = texts[i].match(NUMBER) ?? [];
    return Number(numbers[numbers.length - 1]);
  }
  return null;
}

/** The trace as a markdown document, in the format of the bundled samples. */
export function traceMarkdown(problem: Problem): string {
  return `${problem.question}\n\n<think>\n${problem.steps.map((s) => s.text).join('\n\n')}\n</think>\n\n${problem.reply}\n`;
}
