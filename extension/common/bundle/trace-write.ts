// Writing trace files: a constructor with defaults, and a stable, diff-friendly serialization.

import type { SegmentationPolicy, TraceFormat } from '../trace/types';
import { TRACE_SCHEMA_ID, type StepAnnotation, type TraceFile } from './trace-file';
import { TRACE_SCHEMA_V1 } from './trace-schema';

export interface NewTraceFileInput extends Partial<Omit<TraceFile, 'schema' | 'tool' | 'source' | 'settings'>> {
  toolVersion: string;
  source: { name: string; format: TraceFormat; text: string };
  segmentation?: SegmentationPolicy;
  settings?: Partial<TraceFile['settings']>;
}

/** A trace file with every optional part empty: no model, no scores beyond the steps given. */
export function newTraceFile(input: NewTraceFileInput): TraceFile {
  const { toolVersion, source, settings, ...rest } = input;
  return {
    schema: TRACE_SCHEMA_ID,
    tool: { name: 'thinkscope', version: toolVersion },
    createdAt: rest.createdAt ?? new Date().toISOString(),
    source,
    model: rest.model ?? null,
    segmentation: rest.segmentation ?? 'paragraph',
    settings: { cue: '', answer: null, seed: 0, sealLayer: null, personaLayer: null, ...settings },
    steps: rest.steps ?? [],
    turns: rest.turns ?? [],
    personaFloor: rest.personaFloor ?? null,
    directions: rest.directions ?? [],
    steering: rest.steering ?? [],
    generation: rest.generation ?? null,
    comparison: rest.comparison ?? null,
    ...(rest.pruning ? { pruning: rest.pruning } : {}),
    ...(rest.answerCheck ? { answerCheck: rest.answerCheck } : {}),
  };
}

/** A step with its place and text and no analysis yet: every score null, no projections. */
export function unscoredStep(step: Pick<StepAnnotation, 'index' | 'start' | 'end' | 'text' | 'perturbable'>): StepAnnotation {
  return { ...step, tts: null, s11: null, s01: null, s10: null, s00: null, sealClass: null, sealKeyword: null, latentScore: null, projections: {} };
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode | SchemaNode[];
  additionalProperties?: SchemaNode | boolean;
}

/**
 * Pretty JSON with keys in schema order (records sorted by key) and arrays of plain values on one
 * line, so two saves of the same analysis are byte-identical and a diff shows what changed.
 */
export function serializeTraceFile(file: TraceFile): string {
  return `${write(file, TRACE_SCHEMA_V1 as SchemaNode, '', '')}\n`;
}

function write(value: unknown, schema: SchemaNode | undefined, indent: string, path: string): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot save the trace: ${path} is ${value}, a trace file holds finite numbers only`);
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const itemSchema = (i: number) => (Array.isArray(schema?.items) ? schema.items[i] : schema?.items);
    const items = value.map((item, i) => write(item, itemSchema(i), inner, `${path}[${i}]`));
    if (items.length === 0) return '[]';
    if (value.every((item) => item === null || typeof item !== 'object')) return `[${items.join(', ')}]`;
    return `[\n${items.map((item) => inner + item).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const known = schema?.properties ? Object.keys(schema.properties).filter((key) => key in record) : [];
    const extra = Object.keys(record).filter((key) => !known.includes(key)).sort();
    const entries = [...known, ...extra]
      .filter((key) => record[key] !== undefined)
      .map((key) => {
        const child = schema?.properties?.[key] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        return `${inner}${JSON.stringify(key)}: ${write(record[key], child, inner, path ? `${path}.${key}` : key)}`;
      });
    return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
  }
  throw new Error(`cannot save the trace: ${path} is a ${typeof value}`);
}
