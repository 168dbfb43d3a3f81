// The panel's host-side state: presets, steering checks, editor selection → steps, the state a
// restored panel brings back, and the message protocol's dispatch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIRECTION_SCHEMA_ID } from '../../extension/common/direction';
import {
  HostMessageType,
  WebviewMessageType,
  dispatchMessage,
  message,
  PRESET_INFO,
  steeringChoices,
  type HostMessages,
  type LoadedDirection,
  type MessageHandlers,
  type WebviewMessages,
} from '../../extension/common/webview-protocol';
import { stepsInRanges } from '../../extension/vscode/panels/editor-link';
import { applyPreset, checkSteering, emptySteering, presetDirection, presetLayers, restoredPanel, syncSliders } from '../../extension/vscode/panels/steering';
import { sampleTraceFile } from './bundle-fixtures';

function direction(path: string, method: LoadedDirection['method'], layers: number[], details: Record<string, unknown> = {}): LoadedDirection {
  return {
    schema: DIRECTION_SCHEMA_ID,
    path,
    name: path.split('/').pop() ?? path,
    method,
    hook: 'hook_resid_post',
    layers,
    hiddenSize: 64,
    model: null,
    counts: {},
    signConvention: '',
    createdAt: '2025-06-01T12:00:00.000Z',
    details,
  };
}

const ALL_LAYERS = Array.from({ length: 28 }, (_, l) => l);
const seal = direction('/d/seal', 'seal', ALL_LAYERS, { layer: 20 });
const trueThinking = direction('/d/tt', 'truethinking', ALL_LAYERS);
const axis = direction('/d/axis', 'assistant-axis', ALL_LAYERS, { capLayers: [14, 15, 16], floors: ALL_LAYERS.map(() => 1) });
const directions = [seal, trueThinking, axis];

describe('steering presets', () => {
  it('"Less reflection" is SEAL calibration (c = 1) at the layer the direction was built at, and nothing else', () => {
    const state = applyPreset('lessReflection', emptySteering(), directions);
    assert.deepEqual(steeringChoices(state), [{ direction: '/d/seal', method: 'calibrate', layers: [20], strength: 1 }]);
    assert.equal(state.preset, 'lessReflection');
  });

  it('"Use this step" steers a step of a trace, so it never sets the reply sliders', () => {
    assert.equal(PRESET_INFO.useThisStep.scope, 'step');
    assert.throws(() => applyPreset('useThisStep', emptySteering(), directions), /steers a step of an analysed trace, not a reply/);
    assert.equal(presetDirection('useThisStep', directions).path, '/d/tt');
  });

  it('"Stay in persona" caps the Assistant Axis at its capping layers and switches the other sliders off', () => {
    const before = applyPreset('lessReflection', emptySteering(), directions);
    const state = applyPreset('stayInPersona', before, directions);
    assert.deepEqual(steeringChoices(state), [{ direction: '/d/axis', method: 'cap', layers: [14, 15, 16], strength: 0 }]);
  });

  it('offers each preset with the layers the panel uses, so Steer Reply steers as the panel does', () => {
    assert.deepEqual(presetLayers('lessReflection', seal), [20]);
    assert.deepEqual(presetLayers('stayInPersona', axis), [14, 15, 16]);
    assert.equal(presetLayers('stayInPersona', direction('/d/old-axis', 'assistant-axis', ALL_LAYERS)), null, 'no capping layers: the direction decides');
  });

  it('starts the panel with the configured number of tokens', () => {
    assert.equal(emptySteering(64).maxTokens, 64);
    assert.equal(emptySteering().maxTokens, 256);
  });

  it('names the direction a preset needs when none is loaded', () => {
    assert.throws(() => applyPreset('stayInPersona', emptySteering(), [seal]), /"Stay in persona \(cap\)" needs an Assistant Axis direction: load one/);
  });
});

describe('steering state from the webview', () => {
  const synced = syncSliders(emptySteering(), directions);

  it('gives each new direction one slider, off, with its paper\'s method (generic add for TrueThinking, which steers steps)', () => {
    assert.deepEqual(
      synced.sliders.map((s) => [s.direction, s.enabled, s.method]),
      [
        ['/d/seal', false, 'calibrate'],
        ['/d/tt', false, 'add'],
        ['/d/axis', false, 'cap'],
      ],
    );
  });

  it('clamps a strength to the method range', () => {
    const wild = { ...synced, sliders: synced.sliders.map((s) => (s.direction === '/d/seal' ? { ...s, enabled: true, strength: 99 } : s)) };
    assert.equal(checkSteering(wild, directions).sliders[0].strength, 4);
    const below = { ...synced, sliders: synced.sliders.map((s) => (s.direction === '/d/seal' ? { ...s, enabled: true, strength: -99 } : s)) };
    assert.equal(checkSteering(below, directions).sliders[0].strength, -4);
    const notANumber = { ...synced, sliders: synced.sliders.map((s) => (s.direction === '/d/seal' ? { ...s, enabled: true, strength: Number.NaN } : s)) };
    assert.equal(checkSteering(notANumber, directions).sliders[0].strength, 0, 'a strength that is not a number steers not at all');
  });

  it('refuses a method the direction cannot steer with, and a layer it has no vector for', () => {
    const rotate = { ...synced, sliders: [{ ...synced.sliders[0], method: 'rotate' as const }] };
    assert.throws(() => checkSteering(rotate, directions), /direction "seal" \(seal\) cannot steer with rotate; it can with calibrate, add, ablate/);
    const layer = { ...synced, sliders: [{ ...synced.sliders[0], layers: [40] }] };
    assert.throws(() => checkSteering(layer, directions), /has no vector for layer 40/);
    assert.throws(() => checkSteering({ ...synced, maxTokens: 0 }, directions), /max tokens must be a whole number from 1 to 8192/);
  });
});

describe('editor selection → steps', () => {
  const { steps } = sampleTraceFile();

  it('a cursor picks the step it stands in; a range every step it overlaps', () => {
    assert.deepEqual(stepsInRanges(steps, [{ start: steps[3].start + 2, end: steps[3].start + 2 }]), [3]);
    assert.deepEqual(stepsInRanges(steps, [{ start: steps[1].end - 1, end: steps[2].start + 1 }]), [1, 2]);
    assert.deepEqual(stepsInRanges(steps, [{ start: 0, end: 5 }]), [], 'text before the thinking has no step');
  });
});

describe('a panel restored after a reload', () => {
  it('brings back the trace, the view and the steering it showed', () => {
    const file = sampleTraceFile();
    const steering = syncSliders(emptySteering(), directions);
    const restored = restoredPanel({ state: { view: 'persona', trace: { uri: 'file:///w/a.md', file }, heatmapDirection: 'assistant-axis', steering }, selection: [], reply: null });
    assert.equal(restored.view, 'persona');
    assert.equal(restored.trace?.file.steps.length, file.steps.length);
    assert.equal(restored.heatmapDirection, 'assistant-axis');
    assert.deepEqual(restored.steering, steering);
  });

  it('drops a trace that does not validate instead of showing it', () => {
    const restored = restoredPanel({ state: { view: 'steps', trace: { uri: 'file:///w/a.md', file: { schema: 'nope' } } } });
    assert.equal(restored.trace, null);
    assert.deepEqual(restoredPanel('garbage'), { view: 'steps', trace: null, heatmapDirection: null, steering: null, reply: null });
  });

  it('marks a reply that was streaming as interrupted', () => {
    const reply = { status: 'running', prompt: 'p', steering: [], baseline: null, steered: { text: 'half', done: false }, comparison: null, warnings: [], error: null };
    assert.equal(restoredPanel({ state: { view: 'steering' }, reply }).reply?.status, 'interrupted');
  });
});

describe('webview message dispatch', () => {
  it('calls the handler of the message type and ignores anything else posted to the window', () => {
    const seen: string[] = [];
    const handlers: MessageHandlers<WebviewMessages> = {
      ready: () => seen.push('ready'),
      selectView: ({ view }) => seen.push(`view ${view}`),
      revealStep: ({ index }) => seen.push(`reveal ${index}`),
      selectDirection: () => {},
      steeringChanged: () => {},
      generate: () => {},
      cancel: () => {},
      loadDirection: () => {},
      removeDirection: () => {},
      applyPreset: () => {},
      rendered: () => {},
      prune: () => {},
    };
    assert.equal(dispatchMessage(WebviewMessageType, handlers, message(WebviewMessageType, 'revealStep', { index: 4 })), 'revealStep');
    assert.equal(dispatchMessage(WebviewMessageType, handlers, { type: 'toString' }), null);
    assert.equal(dispatchMessage(WebviewMessageType, handlers, { type: 'state', state: {} }), null, 'a host message is not a webview message');
    assert.equal(dispatchMessage(WebviewMessageType, handlers, 'ready'), null);
    assert.deepEqual(seen, ['reveal 4']);
    const host: (keyof HostMessages)[] = Object.values(HostMessageType);
    assert.deepEqual(host.sort(), ['reply', 'selection', 'state']);
  });
});
