// Selective Steering (algorithms.md §4): from two prompt sets, a unit diff-in-means direction at every
// normalised input of attention and MLP (ln1/ln2), the plane (b1 = the most central, b2 = their PC1
// orthogonal to b1), the blocks whose class means of the b1 projection have opposite signs at every
// norm point, and a norm-preserving rotation by θ in that plane at those blocks only.

import { DIRECTION_SCHEMA_ID, DirectionError, type Direction } from '../../common/direction';
import type { HookKind } from '../../common/hooks';
import type { Intervention } from '../../common/steering-plan';
import { blocksWithAllPointsSelected, classMeanProjections, selectivePlane } from '../../common/analysis/selective';
import { differenceOfMeans, meanVector, norm, normalize } from '../../common/analysis/stats';
import { chatPromptIds } from '../chat-prompt';
import type { Model } from '../model';
import { throwIfCancelled, type Progress } from '../runtime/progress';

const SELECTIVE_HOOKS: readonly HookKind[] = ['ln1.hook_normalized', 'ln2.hook_normalized'];

export interface SelectiveOptions extends Progress {
  /** Prompts of the class the rotation moves toward at θ = 180° away from (e.g. harmful). */
  positive: readonly string[];
  negative: readonly string[];
  /** Names of the two sets, for the metadata (default "positive" and "negative"). */
  labels?: { positive: string; negative: string };
  name?: string;
}

interface PointStats {
  hook: string;
  block: number;
  positiveMean: number;
  negativeMean: number;
  selected: boolean;
}

export async function buildSelectiveDirection(model: Model, options: SelectiveOptions): Promise<Direction> {
  const labels = options.labels ?? { positive: 'positive', negative: 'negative' };
  for (const [label, set] of [[labels.positive, options.positive], [labels.negative, options.negative]] as const) {
    if (set.length === 0) throw new DirectionError(`Selective Steering needs prompts on both sides; the "${label}" set is empty`);
  }
  const { spec, session, tokenizer } = model;
  const hooks = Array.from({ length: spec.numLayers }, (_, l) => SELECTIVE_HOOKS.map((kind) => ({ hook: `blocks.${l}.${kind}`, block: l }))).flat();
  const hookNames = hooks.map((h) => h.hook);
  const H = spec.hiddenSize;
  const total = options.positive.length + options.negative.length;
  let done = 0;

  // The last prompt token at every norm point, for each prompt (chat template on, no system prompt).
  const lastTokenStates = async (prompts: readonly string[]): Promise<Float32Array[][]> => {
    const perPoint: Float32Array[][] = hooks.map(() => []);
    for (const prompt of prompts) {
      throwIfCancelled(options.signal);
      options.report?.({ message: 'reading activations of the contrast prompts', done, total });
      const ids = chatPromptIds(tokenizer, [{ role: 'user', content: prompt }]);
      const result = await session.forward({ ids, capture: hookNames, logits: 'none' });
      const last = ids.length - 1;
      hookNames.forEach((hook, p) => perPoint[p].push(result.captures.get(hook)!.slice(last * H, (last + 1) * H)));
      done++;
    }
    return perPoint;
  };
  const positive = await lastTokenStates(options.positive);
  const negative = await lastTokenStates(options.negative);
  options.report?.({ message: 'building the steering plane', done, total });

  // A point where both sets give the same mean (block 0's ln1 sees only the last token, which the
  // chat template makes the same for every prompt) has no direction: it takes no part and is never steered.
  const differences = hooks.map((_, p) => differenceOfMeans(positive[p], negative[p]));
  const informative = hooks.map((_, p) => p).filter((p) => norm(differences[p]) > 1e-6 * (norm(meanVector(positive[p])) + norm(meanVector(negative[p]))));
  if (informative.length < 2) {
    throw new DirectionError(`the "${labels.positive}" and "${labels.negative}" prompts give the same mean activations at ${hooks.length - informative.length} of ${hooks.length} norm points: use prompts that differ`);
  }
  const plane = selectivePlane(informative.map((p) => normalize(differences[p])));
  const b1Hook = hookNames[informative[plane.b1Index]];
  const points: PointStats[] = hooks.map(({ hook, block }, p) => {
    if (!informative.includes(p)) return { hook, block, positiveMean: 0, negativeMean: 0, selected: false };
    const means = classMeanProjections(positive[p], negative[p], plane.b1);
    return { hook, block, positiveMean: means.positive, negativeMean: means.negative, selected: means.positive * means.negative < 0 };
  });
  const blocks = blocksWithAllPointsSelected(points);
  if (blocks.length === 0) {
    throw new DirectionError(
      `no block separates "${labels.positive}" from "${labels.negative}": at no layer do both norm points have class means of opposite sign on b1 (${b1Hook}); try more or more contrasting prompts`,
    );
  }
  return {
    meta: {
      schema: DIRECTION_SCHEMA_ID,
      name: options.name ?? `selective-${labels.positive}-${labels.negative}`,
      method: 'selective',
      hook: SELECTIVE_HOOKS[0],
      layers: blocks,
      hiddenSize: H,
      model: model.fingerprint,
      counts: { [labels.positive]: options.positive.length, [labels.negative]: options.negative.length },
      signConvention: `b1 points from "${labels.negative}" toward "${labels.positive}"; rotating by θ turns the in-plane part of each activation from b1 toward b2 (180° reverses its b1 component)`,
      createdAt: new Date().toISOString(),
      details: {
        hooks: SELECTIVE_HOOKS,
        b1Point: b1Hook,
        labels,
        position: 'last prompt token (chat template, no system prompt)',
        points,
      },
    },
    vectors: blocks.map(() => plane.b1),
    companions: { b2: blocks.map(() => plane.b2) },
  };
}

/** Rotation by `degrees` in the direction's plane, at both norm points of each selected block. */
/** Rotation by `degrees` at the direction's selected blocks (or the given ones among them). */
export function selectiveInterventions(direction: Direction, degrees: number, layers: readonly number[] = direction.meta.layers): Intervention[] {
  const { meta } = direction;
  if (meta.method !== 'selective' || !direction.companions.b2) {
    throw new DirectionError(`direction "${meta.name}" is a ${meta.method} direction; rotation needs a Selective Steering direction (with its b2 plane axis)`);
  }
  if (!Number.isFinite(degrees)) throw new DirectionError(`rotation angle must be a finite number of degrees, got ${degrees}`);
  const kinds = Array.isArray(meta.details.hooks) ? (meta.details.hooks as HookKind[]) : [meta.hook];
  return meta.layers.flatMap((layer, i) =>
    layers.includes(layer) ? kinds.map((kind): Intervention => ({ hook: `blocks.${layer}.${kind}`, kind: 'rotate', plane: [direction.vectors[i], direction.companions.b2[i]], degrees })) : [],
  );
}
