// JSON Schemas of the trace file, current (v1) and the earlier v0 that is still migrated on load.
// Key order here is the key order `serializeTraceFile` writes.

import { PRECISIONS } from '../precision';

const nullable = (type: string) => ({ type: [type, 'null'] });
const number = { type: 'number' };
const integer = { type: 'integer' };
const offset = { type: 'integer', minimum: 0 };
const string = { type: 'string' };
const numbers = { type: 'array', items: number };
const layers = { type: 'array', items: { type: 'integer', minimum: 0 } };

function record(properties: Record<string, object>, required: string[] = Object.keys(properties)) {
  return { type: 'object', properties, required, additionalProperties: false };
}
function nullableRecord(properties: Record<string, object>, required: string[] = Object.keys(properties)) {
  return { ...record(properties, required), type: ['object', 'null'] };
}

const stepProperties = {
  index: { type: 'integer', minimum: 0 },
  start: offset,
  end: offset,
  text: string,
  perturbable: { type: 'boolean' },
  tts: nullable('number'),
  s11: nullable('number'),
  s01: nullable('number'),
  s10: nullable('number'),
  s00: nullable('number'),
  sealClass: { enum: ['execution', 'reflection', 'transition', null] },
  sealKeyword: nullable('string'),
  latentScore: nullable('number'),
  projections: { type: 'object', additionalProperties: numbers },
};

const step = record(stepProperties);

const commonProperties = {
  schema: string,
  tool: record({ name: { const: 'thinkscope' }, version: string }),
  createdAt: string,
  source: record({ name: string, format: { enum: ['markdown', 'chat-json', 'jsonl', 'text'] }, text: string }),
  model: nullableRecord({
    name: string,
    architecture: string,
    numLayers: { type: 'integer', minimum: 1 },
    hiddenSize: { type: 'integer', minimum: 1 },
    vocabSize: { type: 'integer', minimum: 1 },
    weightsHash: string,
    precision: { enum: [...PRECISIONS] },
  }),
  segmentation: { enum: ['sentence', 'paragraph', 'markers'] },
  settings: record({
    cue: string,
    answer: nullable('string'),
    seed: integer,
    sealLayer: { type: ['integer', 'null'], minimum: 0 },
    personaLayer: { type: ['integer', 'null'], minimum: 0 },
  }),
};

const directions = {
  type: 'array',
  items: record({ name: string, method: string, hook: string, layers, modelFingerprint: string }),
};
const steering = {
  type: 'array',
  items: record({ direction: string, method: { enum: ['add', 'ablate', 'cap', 'rotate'] }, layers, strength: number }),
};
const generation = nullableRecord({
  maxTokens: { type: 'integer', minimum: 0 },
  temperature: number,
  topP: number,
  topK: { type: 'integer', minimum: 0 },
  seed: integer,
});

const answerCheck = nullableRecord(
  {
    modelAnswer: string,
    traceAnswer: nullable('string'),
    confidence: number,
    agrees: { type: 'boolean' },
    tts: { enum: ['scored', 'uninformative'] },
    question: { type: 'boolean' },
  },
  ['modelAnswer', 'traceAnswer', 'confidence', 'agrees', 'tts'],
);

const replyScoring = record({
  ttsAnswer: nullable('string'),
  answerCheck,
  sealDirection: nullable('string'),
  sealLayer: { type: ['integer', 'null'], minimum: 0 },
  axis: nullable('string'),
  personaLayer: { type: ['integer', 'null'], minimum: 0 },
  personaProjection: nullable('number'),
  personaFloor: nullable('number'),
  notScored: { type: 'array', items: string },
});
/** `scoring` is optional: a reply compared by keyword classes only has none. */
const reply = record({ text: string, steps: { type: 'array', items: step }, scoring: replyScoring }, ['text', 'steps']);

const readout = record({ confidence: number, greedy: string });
const pruning = nullableRecord({
  original: string,
  rule: record({ kind: { enum: ['threshold', 'fraction'] }, value: number }),
  removed: { type: 'array', items: record({ index: { type: 'integer', minimum: 0 }, text: string, tts: nullable('number') }) },
  answer: string,
  tokens: record({ before: { type: 'integer', minimum: 0 }, after: { type: 'integer', minimum: 0 } }),
  before: readout,
  after: readout,
});

const v1Properties = {
  ...commonProperties,
  steps: { type: 'array', items: step },
  turns: {
    type: 'array',
    items: record({
      turn: { type: 'integer', minimum: 0 },
      role: { const: 'assistant' },
      start: offset,
      end: offset,
      projection: number,
      belowFloor: { type: 'boolean' },
    }),
  },
  personaFloor: nullable('number'),
  directions,
  steering,
  generation,
  comparison: nullableRecord({
    prompt: string,
    baseline: reply,
    steered: reply,
    alignment: {
      type: 'array',
      items: { type: 'array', items: [{ type: 'integer', minimum: -1 }, { type: 'integer', minimum: -1 }], minItems: 2, maxItems: 2 },
    },
  }),
};

/** `pruning` and `answerCheck` are optional: only a pruned trace has the one, only a scored trace the other. */
export const TRACE_SCHEMA_V1 = record({ ...v1Properties, pruning, answerCheck }, Object.keys(v1Properties));

/** v0: a step carried `range: {start, end}`; there were no persona turns and no comparisons. */
const { index, start: _start, end: _end, ...stepV0Rest } = stepProperties;
export const TRACE_SCHEMA_V0 = record({
  ...commonProperties,
  steps: { type: 'array', items: record({ index, range: record({ start: offset, end: offset }), ...stepV0Rest }) },
  directions,
  steering,
  generation,
});
