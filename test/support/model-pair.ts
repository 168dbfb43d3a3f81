// The two models the engine-backed TTS tests compare against: a random tiny checkpoint (real
// architecture, flat answers) and the hand-built one-step model (its answer depends on one step).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import type { Architecture } from '../../extension/common/model-spec';
import { Model } from '../../extension/engine/model';
import { makeOneStepModel } from './one-step-model';

export interface ModelPair {
  /** The temporary folder holding both checkpoints and their graph cache. */
  root: string;
  random: Model;
  oneStep: Model;
}

/** Writes and opens both models in a fresh temporary folder (`prefix` names it). */
export async function openModelPair(prefix: string, random: { arch: Architecture; seed: number }): Promise<ModelPair> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await makeModel({ preset: 'tiny', arch: random.arch, outDir: join(root, 'random'), seed: random.seed });
  await makeOneStepModel(join(root, 'one-step'));
  return {
    root,
    random: await Model.open(join(root, 'random'), { cacheRoot: join(root, 'cache') }),
    oneStep: await Model.open(join(root, 'one-step'), { cacheRoot: join(root, 'cache') }),
  };
}

/** Closes both models and removes their folder (safe after a failed open). */
export async function closeModelPair(pair: Partial<ModelPair>): Promise<void> {
  await pair.random?.close();
  await pair.oneStep?.close();
  if (pair.root) await rm(pair.root, { recursive: true, force: true });
}
