// The Assistant Axis (algorithms.md §3): the role set, the axis = mean(default) − mean(roles) of
// hook_resid_post averaged over reply tokens (each reply read as drift reads a turn), per layer; capping
// floors τ_l (a percentile of the default assistant's per-reply projections: the population the floor is
// applied to, an assistant's replies); persona drift (each assistant turn's projection on the unit axis,
// flagged below τ).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIRECTION_SCHEMA_ID, DirectionError, vectorAt, type Direction } from '../../common/direction';
import type { TurnProjection } from '../../common/bundle/trace-file';
import { cappingFloors, DEFAULT_CAPPING_PERCENTILE } from '../../common/analysis/capping';
import { dot, meanVector, normalize } from '../../common/analysis/stats';
import type { Intervention } from '../../common/steering-plan';
import { parseTrace, textOf } from '../../common/trace/parse';
import type { ParsedTrace, TextRange } from '../../common/trace/types';
import type { ChatMessage } from '../checkpoint/tokenizer';
import { layerHooks, scanActivations } from '../directions/activations';
import { directReplyPromptIds } from '../chat-prompt';
import type { Model } from '../model';
import { generate } from '../runtime/generate';
import { throwIfCancelled, type Progress } from '../runtime/progress';
import { tokenSpans } from './trace-steps';

// ---- the role set ----

export interface Role {
  name: string;
  systemPrompts: string[];
}

export interface RoleSet {
  roles: Role[];
  questions: string[];
  /** System prompts under which the model is its default self; "{model_name}" is filled in. */
  defaultPrompts: string[];
}

/** The bundled role set's folder: next to dist/ when bundled, at the repository root from source. */
function bundledRoleDir(): string {
  const candidates = [join(__dirname, '..', 'media', 'roles'), join(__dirname, '..', '..', '..', 'media', 'roles')];
  const found = candidates.find((dir) => existsSync(join(dir, 'roles.json')));
  if (!found) throw new DirectionError(`the bundled role set is missing (looked in ${candidates.join(', ')}); reinstall ThinkScope or pass --roles DIR`);
  return found;
}

/**
 * The bundled role set extended by each folder of `extra` (roles.json, questions.json, default.json,
 * each optional there): their roles are added (a role of the same name replaces the earlier one), their
 * questions and default prompts appended.
 */
export async function loadRoleSet(extra: readonly string[] = [], bundled: string | null = bundledRoleDir()): Promise<RoleSet> {
  const roles = new Map<string, Role>();
  const questions: string[] = [];
  const defaultPrompts: string[] = [];
  for (const dir of [...(bundled ? [bundled] : []), ...extra]) {
    const part = await readRoleFolder(dir, dir === bundled);
    for (const role of part.roles) roles.set(role.name, role);
    questions.push(...part.questions);
    defaultPrompts.push(...part.defaultPrompts);
  }
  if (roles.size === 0 || questions.length === 0 || defaultPrompts.length === 0) {
    throw new DirectionError(`a role set needs roles, questions and default prompts; got ${roles.size} roles, ${questions.length} questions and ${defaultPrompts.length} default prompts`);
  }
  return { roles: [...roles.values()], questions: [...new Set(questions)], defaultPrompts: [...new Set(defaultPrompts)] };
}

async function readRoleFolder(dir: string, required: boolean): Promise<RoleSet> {
  const read = async (file: string): Promise<Record<string, unknown> | null> => {
    const path = join(dir, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return null;
    }
    try {
      const value = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
      return value as Record<string, unknown>;
    } catch (error) {
      throw new DirectionError(`${path}: ${(error as Error).message}`);
    }
  };
  const strings = (value: unknown, where: string, allowEmpty: boolean): string[] => {
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && (allowEmpty || s.trim() !== ''))) {
      throw new DirectionError(`${where}: expected a list of ${allowEmpty ? '' : 'non-empty '}strings`);
    }
    return value as string[];
  };
  const rolesFile = await read('roles.json');
  const questionsFile = await read('questions.json');
  const defaultFile = await read('default.json');
  if (!rolesFile && !questionsFile && !defaultFile) {
    throw new DirectionError(`${dir}: no roles.json, questions.json or default.json${required ? '' : ' (a role folder needs at least one of them)'}`);
  }
  const roles = rolesFile
    ? strictArray(rolesFile.roles, `${join(dir, 'roles.json')}: "roles"`).map((item, i) => {
        const where = `${join(dir, 'roles.json')}: roles[${i}]`;
        const role = item as Record<string, unknown> | null;
        if (typeof role?.name !== 'string' || role.name.trim() === '') throw new DirectionError(`${where}.name: expected a non-empty string`);
        const systemPrompts = strings(role.systemPrompts, `${where}.systemPrompts`, false);
        if (systemPrompts.length === 0) throw new DirectionError(`${where}.systemPrompts: a role needs at least one system prompt`);
        return { name: role.name, systemPrompts };
      })
    : [];
  return {
    roles,
    questions: questionsFile ? strings(questionsFile.questions, `${join(dir, 'questions.json')}: "questions"`, false) : [],
    defaultPrompts: defaultFile ? strings(defaultFile.systemPrompts, `${join(dir, 'default.json')}: "systemPrompts"`, true) : [],
  };
}

function strictArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new DirectionError(`${where}: expected a list`);
  return value;
}

// ---- layers ----

/** The paper's target layer when the model has none of its own: L // 2. */
export function defaultPersonaLayer(numLayers: number): number {
  return Math.floor(numLayers / 2);
}

/** Capping layers as the paper's (Qwen3-32B 46–53 of 64, Llama-3.3-70B 56–71 of 80): from ≈ 70% of the depth up to ≈ 7/8. */
export function defaultCapLayers(numLayers: number): number[] {
  const start = Math.min(numLayers - 1, Math.round(0.7 * numLayers));
  const end = Math.max(start + 1, Math.min(numLayers, Math.round(0.875 * numLayers)));
  return Array.from({ length: end - start }, (_, i) => start + i);
}

// ---- the judge ----

const JUDGE_RUBRIC = [
  'You rate how fully an AI model played a role. Answer with one digit:',
  '0 - it refused to answer;',
  '1 - it said it cannot be the role but offered to help;',
  '2 - it answered as an AI with some of the role\'s traits;',
  '3 - it answered fully in the role.',
].join('\n');

function judgeMessages(role: Role, systemPrompt: string, question: string, reply: string): ChatMessage[] {
  return [
    { role: 'system', content: JUDGE_RUBRIC },
    { role: 'user', content: `Role: ${role.name}\nInstruction given to the model: ${systemPrompt}\nQuestion: ${question}\nReply: ${reply}\n\nScore (0-3):` },
  ];
}

/** The first digit 0–3 of the judge's answer, or null when it gave none. */
export function parseJudgeScore(answer: string): number | null {
  const match = /[0-3]/.exec(answer);
  return match ? Number(match[0]) : null;
}

async function judgeReply(judge: Model, role: Role, systemPrompt: string, question: string, reply: string, signal?: AbortSignal): Promise<number | null> {
  const ids = directReplyPromptIds(judge.tokenizer, judgeMessages(role, systemPrompt, question, reply));
  const answer: number[] = [];
  for await (const token of generate(judge.session, ids, { maxTokens: 4, stopTokens: judge.tokenizer.eosIds, signal })) if (token.stop !== 'token') answer.push(token.id);
  return parseJudgeScore(judge.tokenizer.decode(answer, { skipSpecialTokens: true }));
}

// ---- the axis ----

/**
 * A quick axis: each role prompt answers one question, while the default assistant still gives full-length
 * replies to every question, because those replies are the population τ is a percentile of (shorter or fewer
 * ones placed τ above most of the assistant's ordinary replies).
 */
export const FAST_AXIS = { roleQuestions: 1 } as const;

export interface AxisOptions extends Progress {
  roleSet: RoleSet;
  /** Questions asked under each system prompt (default 5; at most the set's). */
  questions?: number;
  /** Questions asked under each role's system prompts (default: `questions`); the default assistant always answers `questions`. */
  roleQuestions?: number;
  /** Reply length in tokens (default 96). */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Keeps only role replies it scores 3 (fully in role); without one every reply is kept. */
  judge?: Model;
  percentile?: number;
  name?: string;
}

interface Sample {
  /** Role name, or null for the default assistant. */
  role: string | null;
  means: Float32Array[];
}

export async function buildAssistantAxis(model: Model, options: AxisOptions): Promise<Direction> {
  const { spec, session, tokenizer } = model;
  const { roleSet } = options;
  const questionCount = Math.min(options.questions ?? 5, roleSet.questions.length);
  const roleQuestionCount = Math.min(options.roleQuestions ?? questionCount, questionCount);
  const maxTokens = options.maxTokens ?? 96;
  const temperature = options.temperature ?? 0.7;
  const topP = options.topP ?? 0.9;
  const seed = options.seed ?? 0;
  const percentileRank = options.percentile ?? DEFAULT_CAPPING_PERCENTILE;
  if (!(questionCount >= 1)) throw new DirectionError('the Assistant Axis needs at least one question');
  if (!(roleQuestionCount >= 1)) throw new DirectionError('each role needs at least one question');
  if (!(maxTokens >= 1)) throw new DirectionError(`reply length must be at least 1 token, got ${maxTokens}`);
  if (!(percentileRank >= 0 && percentileRank <= 100)) throw new DirectionError(`capping percentile must be between 0 and 100, got ${percentileRank}`);
  const questions = roleSet.questions.slice(0, questionCount);
  const hooks = layerHooks(spec.numLayers, 'hook_resid_post');
  const prompts = [
    ...roleSet.defaultPrompts.map((systemPrompt) => ({ role: null as Role | null, systemPrompt: systemPrompt.replaceAll('{model_name}', model.fingerprint.name) })),
    ...roleSet.roles.flatMap((role) => role.systemPrompts.map((systemPrompt) => ({ role: role as Role | null, systemPrompt }))),
  ];
  const asked = (role: Role | null) => (role ? questions.slice(0, roleQuestionCount) : questions);
  const total = prompts.reduce((sum, { role }) => sum + asked(role).length, 0);
  const samples: Sample[] = [];
  const tally = new Map<string, { total: number; kept: number; empty: number }>();
  let done = 0;
  for (const { role, systemPrompt } of prompts) {
    for (const question of asked(role)) {
      throwIfCancelled(options.signal);
      options.report?.({ message: `generating ${role ? `as ${role.name}` : 'as the default assistant'}`, done, total });
      const messages: ChatMessage[] = [...(systemPrompt ? [{ role: 'system', content: systemPrompt }] : []), { role: 'user', content: question }];
      const promptIds = directReplyPromptIds(tokenizer, messages);
      const counts = tally.get(role?.name ?? '') ?? { total: 0, kept: 0, empty: 0 };
      tally.set(role?.name ?? '', counts);
      counts.total++;
      done++;
      const reply: number[] = [];
      const generation = generate(session, promptIds, { maxTokens, temperature, topP, seed: seed + done, stopTokens: tokenizer.eosIds, signal: options.signal });
      for await (const token of generation) if (token.stop !== 'token') reply.push(token.id);
      if (reply.length === 0) {
        counts.empty++;
        continue;
      }
      if (role && options.judge) {
        const score = await judgeReply(options.judge, role, systemPrompt, question, tokenizer.decode(reply, { skipSpecialTokens: true }), options.signal);
        if (score !== 3) continue;
      }
      // Read back as persona drift reads an assistant turn (the chat template, the turn's thinking left out),
      // so τ is a percentile of exactly the quantity the drift flag compares with it.
      const chat = parseTrace(JSON.stringify({ messages: [...messages, { role: 'assistant', content: tokenizer.decode(reply, { skipSpecialTokens: true }) }] }), { fileName: 'reply.json' });
      const [read] = await assistantTurnMeans(model, chat, 0, hooks, options.signal);
      if (!read) {
        counts.empty++;
        continue;
      }
      samples.push({ role: role?.name ?? null, means: read.means });
      counts.kept++;
    }
  }
  options.report?.({ message: 'building the axis', done, total });

  const defaults = samples.filter((s) => s.role === null);
  const roleNames = roleSet.roles.map((r) => r.name).filter((name) => samples.some((s) => s.role === name));
  if (defaults.length === 0) throw new DirectionError('no default-assistant reply was usable (all were empty): try a longer reply length');
  if (roleNames.length === 0) throw new DirectionError(`no role reply was kept${options.judge ? ' (the judge scored none of them 3, fully in role)' : ' (all were empty)'}`);
  const axis = hooks.map((_, l) => {
    const defaultMean = meanVector(defaults.map((s) => s.means[l]));
    const rolesMean = meanVector(roleNames.map((name) => meanVector(samples.filter((s) => s.role === name).map((s) => s.means[l]))));
    return defaultMean.map((x, i) => x - rolesMean[i]);
  });
  // τ_l from the default assistant's replies: the floor is applied to an assistant's turns (drift) and
  // activations (capping), so "below τ" means below the given percentile of how the assistant normally replies.
  const units = axis.map((v) => (v.some((x) => x !== 0) ? normalize(v) : null));
  const floors = cappingFloors(
    axis.map((_, l) => defaults.map((s) => (units[l] ? dot(s.means[l], units[l]) : 0))),
    percentileRank,
  );
  return {
    meta: {
      schema: DIRECTION_SCHEMA_ID,
      name: options.name ?? 'assistant-axis',
      method: 'assistant-axis',
      hook: 'hook_resid_post',
      layers: hooks.map((_, l) => l),
      hiddenSize: spec.hiddenSize,
      model: model.fingerprint,
      counts: { roles: roleNames.length, roleReplies: samples.length - defaults.length, defaultReplies: defaults.length },
      signConvention: 'axis = mean(default assistant) − mean(roles): a higher projection is more Assistant-like; adding it with a positive scale pushes toward the Assistant, a negative one into a persona',
      createdAt: new Date().toISOString(),
      details: {
        averagedOver: 'reply tokens of generated replies, read as persona drift reads an assistant turn (its thinking left out)',
        judged: options.judge ? `kept role replies the judge (${options.judge.fingerprint.name}) scored 3 of 0–3` : false,
        keptAllReplies: !options.judge,
        questionsPerPrompt: questionCount,
        questionsPerRolePrompt: roleQuestionCount,
        maxTokens,
        temperature,
        topP,
        seed,
        percentile: percentileRank,
        floors,
        floorPopulation: 'default-assistant replies (each reply\'s mean over its tokens, projected on the unit axis)',
        targetLayer: defaultPersonaLayer(spec.numLayers),
        capLayers: defaultCapLayers(spec.numLayers),
        replies: Object.fromEntries([...tally].map(([name, counts]) => [name || 'default', counts])),
        droppedRoles: roleSet.roles.map((r) => r.name).filter((name) => !roleNames.includes(name)),
      },
    },
    vectors: axis,
    companions: {},
  };
}

function axisFloor(direction: Direction, layer: number): number | null {
  const floors = direction.meta.details.floors;
  const value = Array.isArray(floors) ? floors[direction.meta.layers.indexOf(layer)] : undefined;
  return typeof value === 'number' ? value : null;
}

function checkAxis(direction: Direction): void {
  if (direction.meta.method !== 'assistant-axis') throw new DirectionError(`direction "${direction.meta.name}" is a ${direction.meta.method} direction; this needs an Assistant-Axis direction`);
  if (direction.meta.hook !== 'hook_resid_post') throw new DirectionError(`Assistant-Axis direction "${direction.meta.name}" is at ${direction.meta.hook}; expected hook_resid_post`);
}

/** Floor caps h ← h + v̂·max(0, τ_l − ⟨h, v̂⟩) at every position, at the given layers (default: the axis's capping layers). */
export function cappingInterventions(direction: Direction, layers?: readonly number[]): Intervention[] {
  checkAxis(direction);
  const stored = direction.meta.details.capLayers;
  const chosen = layers ?? (Array.isArray(stored) ? (stored as number[]) : []);
  if (chosen.length === 0) throw new DirectionError(`Assistant-Axis direction "${direction.meta.name}" names no capping layers: give them`);
  return chosen.map((layer) => {
    const floor = axisFloor(direction, layer);
    if (floor === null) throw new DirectionError(`Assistant-Axis direction "${direction.meta.name}" has no capping floor for layer ${layer}: rebuild it with this version`);
    return { hook: `blocks.${layer}.hook_resid_post`, kind: 'cap', direction: vectorAt(direction, layer), min: floor, positions: 'all' };
  });
}

// ---- persona drift ----

export interface PersonaOptions extends Progress {
  /** Default: the axis's target layer (L // 2). */
  layer?: number;
  conversation?: number;
}

export interface PersonaDrift {
  layer: number;
  /** τ at that layer; turns below it are flagged. Null when the axis has no floors. */
  floor: number | null;
  turns: TurnProjection[];
}

/**
 * One forward pass over the conversation (the checkpoint's chat template); each assistant turn's
 * projection is ⟨mean of hook_resid_post over its tokens, axis/‖axis‖⟩ at the layer.
 */
export async function personaProjections(model: Model, trace: ParsedTrace, axis: Direction, options: PersonaOptions = {}): Promise<PersonaDrift> {
  checkAxis(axis);
  const stored = axis.meta.details.targetLayer;
  const layer = options.layer ?? (typeof stored === 'number' ? stored : defaultPersonaLayer(model.spec.numLayers));
  const vector = vectorAt(axis, layer);
  if (!vector.some((x) => x !== 0)) throw new DirectionError(`the axis is zero at layer ${layer}: choose another layer`);
  const unit = normalize(vector);
  const floor = axisFloor(axis, layer);
  const index = options.conversation ?? 0;
  const conversation = trace.conversations[index];
  if (!conversation) throw new DirectionError(`conversation ${index} does not exist: the trace has ${trace.conversations.length}`);

  const hook = `blocks.${layer}.hook_resid_post`;
  options.report?.({ message: 'reading the conversation', done: 0, total: 1 });
  const read = await assistantTurnMeans(model, trace, index, [hook], options.signal);
  options.report?.({ message: 'reading the conversation', done: 1, total: 1 });
  return {
    layer,
    floor,
    turns: read.map(({ index: turn, range, means }): TurnProjection => {
      const projection = dot(means[0], unit);
      return { turn, role: 'assistant', start: range.start, end: range.end, projection, belowFloor: floor !== null && projection < floor };
    }),
  };
}

interface TurnMeans {
  /** The turn's index in its conversation. */
  index: number;
  /** The turn's content in the trace's text. */
  range: TextRange;
  /** Per hook: hook_resid_post averaged over the turn's own tokens. */
  means: Float32Array[];
}

/**
 * Each assistant turn with content, read in one forward pass over the conversation rendered with the
 * checkpoint's chat template (a turn's thinking left out): per hook, its activation averaged over its
 * own tokens. Persona drift and the axis's reading of its replies both use this, so a turn and the
 * replies its floor comes from are measured alike.
 */
async function assistantTurnMeans(model: Model, trace: ParsedTrace, conversation: number, hooks: readonly string[], signal?: AbortSignal): Promise<TurnMeans[]> {
  const turns = trace.conversations[conversation].turns.map((turn, i) => ({ i, turn, content: (turn.contentParts ?? [turn.content]).map((r) => textOf(trace, r).text).join('\n') }));
  const assistant = turns.filter((t) => t.turn.role === 'assistant' && t.content.trim() !== '');
  if (assistant.length === 0) return [];
  const { tokenizer } = model;
  const messages = turns.map((t) => ({ role: t.turn.role, content: t.content }));
  const rendered = tokenizer.hasChatTemplate ? tokenizer.applyChatTemplate(messages) : messages.map((m) => `${m.role}: ${m.content}\n\n`).join('');
  // Each assistant message's characters in the rendered conversation, found in order.
  let cursor = 0;
  const ranges: TextRange[] = [];
  for (const t of turns) {
    const at = rendered.indexOf(t.content, cursor);
    if (at < 0) {
      if (t.turn.role === 'assistant' && t.content.trim() !== '') throw new DirectionError(`the chat template does not reproduce assistant turn ${t.i + 1} verbatim, so its tokens cannot be found`);
      continue;
    }
    cursor = at + t.content.length;
    if (t.turn.role === 'assistant' && t.content.trim() !== '') ranges.push({ start: at, end: cursor });
  }
  const { ids, offsets } = tokenizer.encodeWithOffsets(rendered);
  const spans = tokenSpans(offsets, ranges);
  const H = model.spec.hiddenSize;
  const sums = spans.map(() => hooks.map(() => new Float64Array(H)));
  const hookIndex = new Map(hooks.map((hook, k) => [hook, k]));
  const last = Math.max(...spans.map((s) => s.end));
  await scanActivations(
    model.session,
    ids.slice(0, last),
    hooks,
    (hook, first, rows) => {
      const k = hookIndex.get(hook)!;
      for (let r = 0; r < rows.length / H; r++) {
        const p = first + r;
        spans.forEach((span, s) => {
          if (p >= span.start && p < span.end) for (let j = 0; j < H; j++) sums[s][k][j] += rows[r * H + j];
        });
      }
    },
    { signal },
  );
  return assistant.flatMap((t, s): TurnMeans[] => {
    const count = spans[s].end - spans[s].start;
    if (count === 0) return [];
    return [{ index: t.i, range: t.turn.content, means: sums[s].map((sum) => Float32Array.from(sum, (x) => x / count)) }];
  });
}
