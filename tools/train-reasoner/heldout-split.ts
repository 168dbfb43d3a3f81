// How the held-out problems build-data.ts set aside are shared out: the demo's sample, the calibration
// traces directions are built on, and the test traces separation and steering are measured on. One split
// for write-fixtures.ts (what the repository bundles) and steer-eval.ts (any data build, any weights).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Problem } from './problems';

export interface HeldOut extends Problem {
  markdown: string;
}

export interface HeldOutSplit {
  sample: HeldOut;
  /** 16 traces: the directions' calibration set (the demo bundles the first 8). */
  calibration: HeldOut[];
  /** 32 traces: what the held-out tests measure on. */
  test: HeldOut[];
  /** Everything but the sample (evaluate.py's prompts come from rest[48..248]). */
  rest: HeldOut[];
}

export function readHeldOut(dataDir: string): HeldOut[] {
  return JSON.parse(readFileSync(join(dataDir, 'heldout.json'), 'utf8')) as HeldOut[];
}

const addsUp = (text: string) => {
  const [a, op, b, c] = /(\d+) ([-+]) (\d+) = (\d+)/.exec(text)!.slice(1);
  return (op === '+' ? Number(a) + Number(b) : Number(a) - Number(b)) === Number(c);
};

export function splitHeldOut(heldout: readonly HeldOut[]): HeldOutSplit {
  const has = (p: HeldOut, kind: string) => p.steps.some((s) => s.kind === kind);
  // The demo's sample: three changes, a check that adds up, and one that does not with the change of approach after it.
  const sample = heldout.find((p) => p.changes.length === 3 && has(p, 'transition') && p.steps.some((s) => s.kind === 'check' && addsUp(s.text)))!;
  const rest = heldout.filter((p) => p !== sample);
  return { sample, calibration: rest.slice(0, 16), test: rest.slice(16, 48), rest };
}
