// Locates the conformance kit (reference outputs computed by Hugging Face transformers) beside the repo.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const KIT_DIR = resolve(process.env.THINKSCOPE_CONFORMANCE ?? join(__dirname, '..', '..', '..', 'shared', 'conformance'));

export interface KitModel {
  name: string;
  dir: string;
  hasInterventions: boolean;
}

export function kitModels(): KitModel[] | null {
  const index = join(KIT_DIR, 'index.json');
  if (!existsSync(index)) {
    const banner = '!'.repeat(100);
    console.error(`${banner}\n!! CONFORMANCE KIT NOT FOUND at ${KIT_DIR}: conformance tests are SKIPPED.\n!! Set THINKSCOPE_CONFORMANCE to the kit's folder.\n${banner}`);
    return null;
  }
  const models = (JSON.parse(readFileSync(index, 'utf8')) as { models: { name: string; dir: string; files: Record<string, unknown> }[] }).models;
  return models.map((m) => ({ name: m.name, dir: join(KIT_DIR, m.dir), hasInterventions: 'interventions.json' in m.files }));
}

/** Largest violation ratio of |x − ref| ≤ atol + rtol·|ref| (≤ 1 passes). */
export function toleranceRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-4, rtol = 1e-4): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ reference length ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (Number.isNaN(ratio)) return Infinity; // a NaN output never passes
    worst = Math.max(worst, ratio);
  }
  return worst;
}

/** Fails, naming `what` and by how much, unless every value is within 1e-4 + 1e-4·|ref| of the reference. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const ratio = toleranceRatio(actual, expected);
  assert.ok(ratio <= 1, `${what}: |Δ| exceeds 1e-4 + 1e-4·|ref| by ×${ratio.toFixed(2)}`);
}
