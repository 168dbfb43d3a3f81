// JSON Schemas of every request's params, checked before a request reaches the engine: a client
// that sends the wrong shape gets a JSON-RPC error naming the field, never a crash inside a handler.
// Each schema lists exactly the fields of its protocol type (the compiler checks the key sets), and
// marks the fields that name files or folders with `fsPath`, so the engine can hold every path a
// client names (to read or to write) to the folder it serves.

import { PRECISIONS } from './precision';
import { STEERING_METHODS, type AnalyzeParams, type BuildDirectionParams, type CounterfactualParams, type EngineRequests, type GenerateParams, type PruneFolderParams, type PruneParams, type RequestMethod, type SteeringChoice, type SteerStepParams } from './protocol';

/** The schema keyword marking a path: the engine checks it against the folder it serves. */
export const PATH_KEYWORD = 'fsPath';

type Schema = Record<string, unknown>;
type Params<M extends RequestMethod> = EngineRequests[M][0];
type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

/** An object schema whose properties are exactly the keys of T; the keys T requires are required. */
function record<T>(properties: { [K in keyof Required<T>]: Schema }, required: RequiredKeys<T>[]): Schema {
  return { type: 'object', properties, required, additionalProperties: false };
}

const string = { type: 'string' };
const boolean = { type: 'boolean' };
const number = { type: 'number' };
const integer = { type: 'integer' };
const count = { type: 'integer', minimum: 0 };
const layers = { type: 'array', items: count, maxItems: 4096 };
const path = { type: 'string', minLength: 1, [PATH_KEYWORD]: true };
const segmentation = { enum: ['sentence', 'paragraph', 'markers'] };
const keywordList = {
  type: 'object',
  properties: { startsWith: { type: 'array', items: string }, contains: { type: 'array', items: string } },
  required: ['startsWith', 'contains'],
  additionalProperties: false,
};

const steeringChoice = record<SteeringChoice>(
  { direction: path, method: { enum: [...STEERING_METHODS] }, layers, strength: number },
  ['direction', 'method', 'strength'],
);

const analyzeParams = record<AnalyzeParams>(
  {
    text: string,
    fileName: string,
    conversation: count,
    segmentation,
    tts: boolean,
    seal: boolean,
    persona: boolean,
    lens: boolean,
    cue: string,
    answer: string,
    answerFrom: { enum: ['trace', 'model'] },
    seed: integer,
    sealKeywords: { type: 'object', properties: { reflection: keywordList, transition: keywordList }, required: ['reflection', 'transition'], additionalProperties: false },
    sealLayer: count,
    sealDirection: path,
    personaLayer: count,
    axisDirection: path,
    document: string,
    restart: boolean,
    lastTokens: { type: 'integer', minimum: 1 },
  },
  ['text', 'fileName', 'segmentation', 'tts', 'seal', 'persona'],
);

const message = {
  type: 'object',
  properties: { role: { enum: ['system', 'user', 'assistant'] }, content: string },
  required: ['role', 'content'],
  additionalProperties: false,
};

const generateParams = record<GenerateParams>(
  {
    prompt: string,
    messages: { type: 'array', items: message },
    steering: { type: 'array', items: steeringChoice, maxItems: 64 },
    compare: boolean,
    maxTokens: { type: 'integer', minimum: 1 },
    temperature: { type: 'number', minimum: 0 },
    topP: { type: 'number', minimum: 0, maximum: 1 },
    topK: count,
    seed: integer,
    segmentation,
    enableThinking: boolean,
  },
  ['steering', 'compare', 'maxTokens'],
);

const steerStepParams = record<SteerStepParams>(
  {
    text: string,
    fileName: string,
    conversation: count,
    segmentation,
    step: count,
    direction: path,
    layer: count,
    scale: number,
    cue: string,
    answer: string,
  },
  ['text', 'fileName', 'segmentation', 'step', 'direction', 'scale'],
);

const buildDirectionParams = record<BuildDirectionParams>(
  {
    kind: { enum: ['seal', 'truethinking', 'assistant-axis', 'selective'] },
    // Empty for the bundled role set of an Assistant Axis; each kind checks its own inputs.
    inputs: { type: 'array', items: path, maxItems: 10000 },
    out: path,
    options: { type: 'object' },
  },
  ['kind', 'inputs', 'out'],
);

const counterfactualParams = record<CounterfactualParams>(
  { baseline: string, text: string, fileName: string, conversation: count, segmentation, cue: string, answer: string },
  ['baseline', 'text', 'fileName', 'segmentation'],
);

const pruneRule = { type: 'object', properties: { kind: { enum: ['threshold', 'fraction'] }, value: { type: 'number', minimum: 0 } }, required: ['kind', 'value'], additionalProperties: false };

const pruneParams = record<PruneParams>(
  {
    text: string,
    fileName: string,
    conversation: count,
    segmentation,
    rule: pruneRule,
    scores: { type: 'array', items: { type: ['number', 'null'] } },
    cue: string,
    answer: string,
    seed: integer,
  },
  ['text', 'fileName', 'segmentation', 'rule'],
);

const pruneFolderParams = record<PruneFolderParams>(
  { folder: path, out: path, rules: { type: 'array', items: pruneRule, minItems: 1, maxItems: 100 }, segmentation, cue: string, answer: string },
  ['folder', 'out', 'rules', 'segmentation'],
);

/** The params schema of every request method. */
export const REQUEST_PARAMS_SCHEMAS: { [M in RequestMethod]: Schema } = {
  initialize: record<Params<'initialize'>>({ client: string, protocol: integer, token: string }, ['client']),
  loadModel: record<Params<'loadModel'>>({ path: path, threads: count, precision: { enum: [...PRECISIONS] }, memoryBudgetMib: count }, ['path']),
  analyzeTrace: analyzeParams,
  generate: generateParams,
  steerStep: steerStepParams,
  buildDirection: buildDirectionParams,
  describeDirection: record<Params<'describeDirection'>>({ path: path }, ['path']),
  counterfactual: counterfactualParams,
  prune: pruneParams,
  pruneFolder: pruneFolderParams,
};
