// Hook points, named as TransformerLens names them.

export type HookKind = 'hook_resid_pre' | 'hook_resid_mid' | 'hook_resid_post' | 'ln1.hook_normalized' | 'ln2.hook_normalized';
export const HOOK_KINDS: readonly HookKind[] = ['hook_resid_pre', 'ln1.hook_normalized', 'hook_resid_mid', 'ln2.hook_normalized', 'hook_resid_post'];
export const FINAL_NORM_HOOK = 'ln_final.hook_normalized';

export type HookPoint = { layer: number; kind: HookKind } | { layer: null; kind: 'ln_final' };

export function hookName(point: HookPoint): string {
  return point.layer === null ? FINAL_NORM_HOOK : `blocks.${point.layer}.${point.kind}`;
}

/** Parses a hook name; throws an Error naming the valid forms when it is not one. */
export function parseHook(name: string, numLayers: number): HookPoint {
  if (name === FINAL_NORM_HOOK) return { layer: null, kind: 'ln_final' };
  const match = /^blocks\.(\d+)\.(.+)$/.exec(name);
  const kind = match?.[2] as HookKind | undefined;
  if (!match || !kind || !HOOK_KINDS.includes(kind)) {
    throw new Error(`unknown hook point "${name}": expected blocks.{layer}.{${HOOK_KINDS.join('|')}} or ${FINAL_NORM_HOOK}`);
  }
  const layer = Number(match[1]);
  if (layer >= numLayers) throw new Error(`hook point "${name}": layer ${layer} does not exist (the model has ${numLayers} layers, 0..${numLayers - 1})`);
  return { layer, kind };
}

/** Expands `blocks.*.X` to every layer; other names are returned as they are (after validation). */
export function expandHookPattern(pattern: string, numLayers: number): string[] {
  if (!pattern.includes('*')) {
    parseHook(pattern, numLayers);
    return [pattern];
  }
  const match = /^blocks\.\*\.(.+)$/.exec(pattern);
  if (!match) throw new Error(`hook pattern "${pattern}": '*' may only stand for the layer, as in blocks.*.hook_resid_post`);
  return Array.from({ length: numLayers }, (_, l) => {
    const name = `blocks.${l}.${match[1]}`;
    parseHook(name, numLayers);
    return name;
  });
}
