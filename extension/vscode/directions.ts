// Saved directions the user has built or picked, newest first, with what made each one, so the
// steering pickers can offer the presets that fit them.

import * as vscode from 'vscode';
import type { DirectionMethod } from '../common/direction';
import type { SteeringMethod } from '../common/protocol';
import type { EngineClient } from './contracts';

export interface KnownDirection {
  path: string;
  name: string;
  method: DirectionMethod;
}

const KEY = 'thinkscope.recentDirections';
const MAX_RECENT = 12;

export interface SteeringPreset {
  id: string;
  label: string;
  detail: string;
  /** The kind of direction it needs. */
  needs: DirectionMethod;
  method: SteeringMethod;
  /** Default strength; undefined when the method takes none. */
  strength: number | undefined;
}

/** The one-click settings the Steering panel offers too. */
export const STEERING_PRESETS: readonly SteeringPreset[] = [
  { id: 'seal', label: 'Less reflection (SEAL)', detail: 'Subtract the SEAL vector: fewer "Wait…" and switches of approach', needs: 'seal', method: 'add', strength: -1 },
  { id: 'truethinking', label: 'Use this step (TrueThinking +)', detail: 'Add the TrueThinking direction: steps that drive the answer', needs: 'truethinking', method: 'add', strength: 1 },
  { id: 'assistant-cap', label: 'Stay in persona (cap)', detail: 'Cap the Assistant Axis at its floor: no drift from the assistant', needs: 'assistant-axis', method: 'cap', strength: undefined },
];

/** How a direction steers by default, by what made it. */
export function defaultMethod(method: DirectionMethod): { method: SteeringMethod; strength: number | undefined } {
  if (method === 'assistant-axis') return { method: 'cap', strength: undefined };
  if (method === 'selective') return { method: 'rotate', strength: 10 };
  if (method === 'seal') return { method: 'add', strength: -1 };
  return { method: 'add', strength: 1 };
}

export class DirectionLibrary {
  constructor(
    private readonly state: vscode.Memento,
    private readonly engine: EngineClient,
  ) {}

  list(): KnownDirection[] {
    const stored = this.state.get<unknown>(KEY);
    return Array.isArray(stored) ? stored.filter((d): d is KnownDirection => typeof d?.path === 'string' && typeof d?.method === 'string') : [];
  }

  async remember(direction: KnownDirection): Promise<void> {
    await this.state.update(KEY, [direction, ...this.list().filter((d) => d.path !== direction.path)].slice(0, MAX_RECENT));
  }

  /** Reads a direction folder's metadata through the engine and remembers it. */
  async describe(path: string): Promise<KnownDirection> {
    const meta = await this.engine.request('describeDirection', { path });
    const known = { path, name: meta.name, method: meta.method };
    await this.remember(known);
    return known;
  }
}
