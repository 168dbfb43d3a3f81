// `thinkscope generate`: streams a reply to a prompt or a conversation, optionally steered by a
// steering file or a saved direction (by its paper's rule, or --method), and with --compare streams
// the unsteered baseline first, then the steered reply.

import { readFile } from 'node:fs/promises';
import type { ChatMessage } from '../../engine/checkpoint/tokenizer';
import type { HookKind } from '../../common/hooks';
import { chatPromptIds, thinkingSwitch } from '../../engine/chat-prompt';
import { generationSteering } from '../../engine/directions/steering-methods';
import { STEERING_METHODS, type SteeringMethod } from '../../common/protocol';
import { defaultMethodFor, methodsFor } from '../../common/steering-rule';
import { loadDirectionFor } from '../../engine/directions/store';
import type { Model } from '../../engine/model';
import { generate, type GenerateOptions } from '../../engine/runtime/generate';
import { loadSteeringFile } from '../../engine/steering-file';
import { integerOption, numberOption, optionalInteger, optionalNumber, required, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress, prepareSteeringWithProgress } from '../open-model';

/** The presets: a direction's kind and the method its paper steers with. */
const PRESETS = { seal: { needs: 'seal', method: 'calibrate' }, 'assistant-cap': { needs: 'assistant-axis', method: 'cap' } } as const;
type Preset = keyof typeof PRESETS;
const PRESET_NAMES = Object.keys(PRESETS) as Preset[];

export async function readMessages(path: string): Promise<ChatMessage[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--messages ${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  const list = Array.isArray(json) ? json : (json as { messages?: unknown } | null)?.messages;
  const shape = 'expected [{"role": "system"|"user"|"assistant", "content": "..."}, ...] or {"messages": [...]}';
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`--messages ${path}: ${shape}`);
  return list.map((item, i) => {
    const message = item as { role?: unknown; content?: unknown } | null;
    if (!['system', 'user', 'assistant'].includes(message?.role as string) || typeof message?.content !== 'string') {
      throw new UsageError(`--messages ${path}: message ${i + 1} is not {"role", "content"}; ${shape}`);
    }
    return { role: message!.role as string, content: message!.content as string };
  });
}

/** Layer lists as "3,5,7" or ranges "20-24". */
export function parseLayerList(text: string, option: string): number[] {
  const layers = text.split(',').flatMap((part) => {
    const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new UsageError(`--${option}: range ${part.trim()} runs backwards`);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    }
    const n = Number(part);
    if (part.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`--${option} must be layer numbers such as 3,5,7 or a range such as 20-24`);
    return [n];
  });
  return [...new Set(layers)];
}

async function stream(model: Model, promptIds: number[], options: GenerateOptions, out: NodeJS.WritableStream): Promise<string> {
  const ids: number[] = [];
  let shown = '';
  for await (const token of generate(model.session, promptIds, options)) {
    if (token.stop === 'token') break;
    ids.push(token.id);
    const text = model.tokenizer.decode(ids);
    // A token that ends inside a multi-byte character waits for the rest of it.
    if (text.endsWith('\uFFFD')) continue;
    out.write(text.slice(shown.length));
    shown = text;
  }
  const text = model.tokenizer.decode(ids);
  out.write(text.slice(shown.length) + '\n');
  return text;
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'Stream a reply, optionally steered by a steering file or a saved direction; --compare also streams the baseline.',
  usage: 'generate --model DIR (--prompt TEXT | --messages FILE) [--steer FILE | --direction DIR [--preset seal|assistant-cap] [--method M]] [--scale X] [--compare] [--thinking on|off]',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' },
    prompt: { type: 'string', description: 'the user message', valueName: 'TEXT' },
    system: { type: 'string', description: 'a system message before --prompt', valueName: 'TEXT' },
    messages: { type: 'string', description: 'a conversation as JSON [{"role", "content"}, ...]; the reply continues it', valueName: 'FILE' },
    steer: { type: 'string', description: 'steering file {"interventions": [...]} applied at every position', valueName: 'FILE' },
    preset: { type: 'string', description: `${PRESET_NAMES.join(' | ')}: the --direction must be of that kind (seal: −c·v at "\\n\\n" tokens while thinking, at the SEAL layer; assistant-cap: floor caps at the capping layers)`, valueName: 'NAME' },
    direction: { type: 'string', description: 'a saved direction folder (from `thinkscope direction ...`); it steers by its paper\'s rule unless --method says otherwise', valueName: 'DIR' },
    method: { type: 'string', description: `${STEERING_METHODS.join(' | ')}: calibrate = SEAL's rule, cap = Assistant-Axis floor, rotate = Selective Steering, add/ablate = at every position`, valueName: 'M' },
    scale: { type: 'string', description: 'strength c (calibrate adds −c·v at "\\n\\n" tokens; add adds +c·v everywhere)', valueName: 'X' },
    layer: { type: 'string', description: 'one layer to steer at (default: the method\'s own, e.g. the SEAL layer)', valueName: 'N' },
    layers: { type: 'string', description: 'capping layers, or the layers an added direction uses, e.g. 20-24', valueName: 'LIST' },
    degrees: { type: 'string', description: 'rotation angle for a Selective Steering direction', valueName: 'θ' },
    compare: { type: 'boolean', description: 'stream the unsteered reply first, then the steered one' },
    thinking: { type: 'string', description: 'on | off: the chat template\'s enable_thinking (Qwen3 thinks unless off); default: the template\'s own', valueName: 'on|off' },
    'max-tokens': { type: 'string', description: 'reply length limit', valueName: 'N', default: '512' },
    temperature: { type: 'string', description: 'sampling temperature; 0 is greedy', valueName: 'T', default: '0' },
    'top-p': { type: 'string', description: 'nucleus sampling threshold', valueName: 'P', default: '1' },
    'top-k': { type: 'string', description: 'sample among the k likeliest tokens; 0 for all', valueName: 'K', default: '0' },
    seed: { type: 'string', description: 'sampling seed (both replies of --compare use it)', valueName: 'N', default: '0' },
    ...modelLoadOptions,
  },
  async run(values, _positionals, { signal }) {
    const modelDir = required(values, 'model');
    if ((values.prompt === undefined) === (values.messages === undefined)) throw new UsageError('give exactly one of --prompt TEXT and --messages FILE');
    if (values.system !== undefined && values.messages !== undefined) throw new UsageError('--system goes with --prompt; put the system message in the --messages file');
    if (values.steer !== undefined && (values.direction !== undefined || values.preset !== undefined)) throw new UsageError('give either --steer FILE or --direction DIR (with an optional --preset), not both');
    const preset = values.preset as Preset | undefined;
    if (preset === ('truethinking' as Preset)) {
      throw new UsageError('a TrueThinking direction steers the tokens of one step of a trace: use `thinkscope steer-step TRACE --direction DIR --step N` (or --method add to add it at every position of a reply)');
    }
    if (preset !== undefined && !PRESET_NAMES.includes(preset)) throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}; got "${preset}"`);
    if (preset !== undefined && values.direction === undefined) {
      const kind = { seal: 'SEAL (thinkscope direction seal)', 'assistant-cap': 'Assistant-Axis (thinkscope direction assistant-axis)' }[preset];
      throw new UsageError(`--preset ${preset} steers with a ${kind} direction: give its folder with --direction DIR`);
    }
    const method = values.method as SteeringMethod | undefined;
    if (method !== undefined && !STEERING_METHODS.includes(method)) throw new UsageError(`--method must be one of ${STEERING_METHODS.join(', ')}; got "${method}"`);
    if (method !== undefined && values.direction === undefined) throw new UsageError('--method needs a direction: --direction DIR');
    if (values.compare && values.steer === undefined && values.direction === undefined) throw new UsageError('--compare needs steering to compare against: --steer FILE or --direction DIR');
    const messages: ChatMessage[] =
      values.messages !== undefined
        ? await readMessages(String(values.messages))
        : [...(values.system !== undefined ? [{ role: 'system', content: String(values.system) }] : []), { role: 'user', content: String(values.prompt) }];
    const sampling = {
      maxTokens: integerOption(values, 'max-tokens'),
      temperature: numberOption(values, 'temperature'),
      topP: numberOption(values, 'top-p'),
      topK: integerOption(values, 'top-k'),
      seed: integerOption(values, 'seed'),
    };
    if (sampling.maxTokens < 1) throw new UsageError('--max-tokens must be at least 1');
    if (values.thinking !== undefined && values.thinking !== 'on' && values.thinking !== 'off') throw new UsageError(`--thinking must be on or off; got "${String(values.thinking)}"`);
    const enableThinking = values.thinking === undefined ? undefined : values.thinking === 'on';

    const model = await openModelWithProgress(modelDir, modelLoadSettings(values));
    try {
      const promptIds = chatPromptIds(model.tokenizer, messages, thinkingSwitch(enableThinking));
      const base: GenerateOptions = { ...sampling, stopTokens: model.tokenizer.eosIds, signal };
      let steered: GenerateOptions | null = null;
      let described = '';
      let kinds: readonly HookKind[] = [];
      if (values.steer !== undefined) {
        const steering = model.session.compileSteering(await loadSteeringFile(String(values.steer)));
        steered = { ...base, steering };
        kinds = steering.kinds;
        described = `steering file ${values.steer}`;
      } else if (values.direction !== undefined) {
        const { direction, warnings } = await loadDirectionFor(String(values.direction), model.fingerprint);
        for (const warning of warnings) console.error(`warning: ${warning}`);
        if (preset && direction.meta.method !== PRESETS[preset].needs) {
          throw new UsageError(`preset ${preset} needs a ${PRESETS[preset].needs} direction; "${direction.meta.name}" is a ${direction.meta.method} direction`);
        }
        if (method === undefined && direction.meta.method === 'truethinking') {
          throw new UsageError('a TrueThinking direction steers the tokens of one step of a trace: use `thinkscope steer-step TRACE --direction DIR --step N` (or --method add to add it at every position of the reply)');
        }
        const chosen = method ?? (preset ? PRESETS[preset].method : defaultMethodFor(direction.meta));
        if (!methodsFor(direction.meta).includes(chosen)) throw new UsageError(`a ${direction.meta.method} direction steers with ${methodsFor(direction.meta).join(', ')}, not ${chosen}`);
        const scale = optionalNumber(values, 'scale');
        const degrees = optionalNumber(values, 'degrees');
        if (chosen === 'cap' && scale !== undefined) throw new UsageError('capping has no scale: it lifts activations to the floor τ of each layer (choose layers with --layers)');
        if (chosen === 'rotate' && degrees === undefined) throw new UsageError('a Selective Steering direction rotates: give the angle with --degrees');
        const layer = optionalInteger(values, 'layer');
        const layers = values.layers === undefined ? (layer === undefined ? undefined : [layer]) : parseLayerList(String(values.layers), 'layers');
        const made = generationSteering(model, promptIds, [{ direction, choice: { method: chosen, strength: chosen === 'rotate' ? degrees! : (scale ?? 1), layers } }]);
        steered = { ...base, steering: made.steering, promptSteering: made.promptSteering };
        described = made.applied.join('; ');
        kinds = made.kinds;
      }
      await prepareSteeringWithProgress(model, kinds);
      if (values.compare) {
        console.log('=== baseline ===');
        await stream(model, promptIds, base, process.stdout);
        console.log(`=== steered (${described}) ===`);
        await stream(model, promptIds, steered!, process.stdout);
      } else {
        if (steered) console.error(`steering: ${described}`);
        await stream(model, promptIds, steered ?? base, process.stdout);
      }
    } finally {
      await model.close();
    }
  },
};
