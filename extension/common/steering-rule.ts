// What a steering choice applies, in one place for every front end: the layers and hook points, the
// positions, and the rule, by method (algorithms.md §2.4, §3.4, §4.4). The engine builds its
// interventions from these layers; the Steering panel, Steer Reply… and the CLI show these words.

import type { DirectionMetadata } from './direction';
import type { SteeringChoice, SteeringMethod } from './protocol';

type Meta = Pick<DirectionMetadata, 'method' | 'hook' | 'layers' | 'details'>;

/** SEAL's layer: the one the direction was built at (details.layer), else the middle of its layers. */
export function sealLayerOf(meta: Meta): number {
  const stored = meta.details.layer;
  if (typeof stored === 'number' && meta.layers.includes(stored)) return stored;
  return meta.layers[Math.floor(meta.layers.length / 2)];
}

/** The layers an Assistant-Axis direction caps at (details.capLayers); null when it records none. */
export function capLayersOf(meta: Pick<DirectionMetadata, 'details'>): number[] | null {
  const stored = meta.details.capLayers;
  return Array.isArray(stored) && stored.length > 0 && stored.every((layer) => Number.isInteger(layer)) ? (stored as number[]) : null;
}

/** The method a direction steers with when nobody chose one: its paper's rule, else adding it everywhere. */
export function defaultMethodFor(meta: Pick<DirectionMetadata, 'method'>): SteeringMethod {
  if (meta.method === 'seal') return 'calibrate';
  if (meta.method === 'assistant-axis') return 'cap';
  if (meta.method === 'selective') return 'rotate';
  return 'add';
}

/** Methods a direction can steer with: calibration needs SEAL, capping Assistant-Axis floors, rotation a Selective plane. */
export function methodsFor(meta: Pick<DirectionMetadata, 'method'>): SteeringMethod[] {
  const own: SteeringMethod[] = meta.method === 'seal' ? ['calibrate'] : meta.method === 'assistant-axis' ? ['cap'] : meta.method === 'selective' ? ['rotate'] : [];
  return [...own, 'add', 'ablate'];
}

/** The layers a choice steers: the chosen ones, else the method's own (SEAL's layer, the capping layers), else all of the direction's. */
export function choiceLayers(meta: Meta, choice: Pick<SteeringChoice, 'method' | 'layers'>): number[] {
  if (choice.layers && choice.layers.length > 0) return choice.layers;
  if (choice.method === 'calibrate') return [sealLayerOf(meta)];
  if (choice.method === 'cap') return capLayersOf(meta) ?? [];
  return meta.layers;
}

/** The hook kinds a choice edits in each of its layers (Selective Steering rotates at every norm it was built on). */
function hookKinds(meta: Meta, method: SteeringMethod): string[] {
  if (method === 'rotate' && Array.isArray(meta.details.hooks)) return meta.details.hooks as string[];
  return [meta.hook];
}

export interface SteeringRule {
  method: SteeringMethod;
  layers: number[];
  /** Hook kinds edited at each layer. */
  hooks: string[];
  /** Which token positions are edited, in words. */
  positions: string;
  /** The edit, as a formula. */
  rule: string;
}

const EVERY_POSITION = 'every position, prompt and reply';

function signedTimes(x: number): string {
  return `${x < 0 ? '−' : '+'} ${Math.abs(x)}`;
}

export function steeringRule(meta: Meta, choice: Pick<SteeringChoice, 'method' | 'layers' | 'strength'>): SteeringRule {
  const layers = choiceLayers(meta, choice);
  const hooks = hookKinds(meta, choice.method);
  const base = { method: choice.method, layers, hooks };
  switch (choice.method) {
    case 'calibrate':
      return {
        ...base,
        positions: 'the "\\n\\n" step-boundary tokens the model generates inside <think> (not the prompt, not after </think>)',
        rule: `h ${signedTimes(-choice.strength)}·v (SEAL calibration, c = ${choice.strength})`,
      };
    case 'add':
      return { ...base, positions: EVERY_POSITION, rule: `h ${signedTimes(choice.strength)}·v (added at every position)` };
    case 'ablate':
      return { ...base, positions: EVERY_POSITION, rule: 'h − ⟨h, v̂⟩·v̂ (direction removed)' };
    case 'cap': {
      const floors = Array.isArray(meta.details.floors) ? (meta.details.floors as unknown[]) : [];
      const tau = layers.map((layer) => floors[meta.layers.indexOf(layer)]).map((t) => (typeof t === 'number' ? t.toPrecision(3) : '?'));
      return { ...base, positions: EVERY_POSITION, rule: `h + v̂·max(0, τ − ⟨h, v̂⟩), floor τ = ${tau.join(', ')} (Assistant-Axis capping)` };
    }
    case 'rotate':
      return { ...base, positions: EVERY_POSITION, rule: `rotation by ${choice.strength}° in the plane (b1, b2), norm kept (Selective Steering)` };
  }
}

/** "layer 20" / "layers 2, 3" / "layers 11–27". */
export function layerText(layers: readonly number[]): string {
  if (layers.length === 0) return 'no layer';
  const contiguous = layers.every((l, i) => i === 0 || l === layers[i - 1] + 1);
  const list = contiguous && layers.length > 2 ? `${layers[0]}–${layers[layers.length - 1]}` : layers.join(', ');
  return `${layers.length === 1 ? 'layer' : 'layers'} ${list}`;
}

/** The whole rule in one sentence: where, at which positions, what. */
export function describeRule(rule: SteeringRule): string {
  return `${rule.rule} at ${rule.hooks.join(' and ')} of ${layerText(rule.layers)}, at ${rule.positions}`;
}
