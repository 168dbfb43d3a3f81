// `thinkscope generate`: streams a reply to a prompt or a conversation, optionally steered by a
// steering file or a saved direction (presets seal | truethinking | assistant-cap), and with
// --compare streams the unsteered baseline first, then the steered reply.

import { readFile } from 'node:fs/promises';
import type { ChatMessage } from '../../engine/checkpoint/tokenizer';
import { chatPromptIds } from '../../engine/chat-prompt';
import { PRESETS, steeringFromDirection, type Preset } from '../../engine/directions/presets';
import { loadDirectionFor } from '../../engine/directions/store';
import type { Model } from '../../engine/model';
import { generate, type GenerateOptions } from '../../engine/runtime/generate';
import { loadSteeringFile } from '../../engine/steering-file';
import { integerOption, numberOption, optionalInteger, optionalNumber, required, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress } from '../open-model';

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
  usage: 'generate --model DIR (--prompt TEXT | --messages FILE) [--steer FILE | --direction DIR [--preset seal|truethinking|assistant-cap]] [--scale X] [--compare]',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' },
    prompt: { type: 'string', description: 'the user message', valueName: 'TEXT' },
    system: { type: 'string', description: 'a system message before --prompt', valueName: 'TEXT' },
    messages: { type: 'string', description: 'a conversation as JSON [{"role", "content"}, ...]; the reply continues it', valueName: 'FILE' },
    steer: { type: 'string', description: 'steering file {"interventions": [...]} applied at every position', valueName: 'FILE' },
    preset: { type: 'string', description: `${PRESETS.join(' | ')}: steer with --direction made by that method (seal: −c·v at "\\n\\n" tokens while thinking; truethinking: +c·v while thinking; assistant-cap: floor caps)`, valueName: 'NAME' },
    direction: { type: 'string', description: 'a saved direction folder (from `thinkscope direction ...`); without --preset its method decides how it steers', valueName: 'DIR' },
    scale: { type: 'string', description: 'strength c (SEAL adds −c·v; other additions +c·v)', valueName: 'X' },
    layer: { type: 'string', description: 'the layer of seal/truethinking steering (default: the direction\'s own / ≈60% of depth)', valueName: 'N' },
    layers: { type: 'string', description: 'capping layers, or the layers an added direction uses, e.g. 20-24', valueName: 'LIST' },
    degrees: { type: 'string', description: 'rotation angle for a Selective Steering direction', valueName: 'θ' },
    compare: { type: 'boolean', description: 'stream the unsteered reply first, then the steered one' },
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
    if (preset !== undefined && !PRESETS.includes(preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}; got "${preset}"`);
    if (preset !== undefined && values.direction === undefined) {
      const kind = { seal: 'SEAL (thinkscope direction seal)', truethinking: 'TrueThinking (thinkscope direction truethinking)', 'assistant-cap': 'Assistant-Axis (thinkscope direction assistant-axis)' }[preset];
      throw new UsageError(`--preset ${preset} steers with a ${kind} direction: give its folder with --direction DIR`);
    }
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

    const model = await openModelWithProgress(modelDir, modelLoadSettings(values));
    try {
      const promptIds = chatPromptIds(model.tokenizer, messages);
      const base: GenerateOptions = { ...sampling, stopTokens: model.tokenizer.eosIds, signal };
      let steered: GenerateOptions | null = null;
      let description = '';
      if (values.steer !== undefined) {
        steered = { ...base, steering: model.session.compileSteering(await loadSteeringFile(String(values.steer))) };
        description = `steering file ${values.steer}`;
      } else if (values.direction !== undefined) {
        const { direction, warnings } = await loadDirectionFor(String(values.direction), model.fingerprint);
        for (const warning of warnings) console.error(`warning: ${warning}`);
        const made = steeringFromDirection(model, direction, promptIds, {
          preset,
          scale: optionalNumber(values, 'scale'),
          layer: optionalInteger(values, 'layer'),
          layers: values.layers === undefined ? undefined : parseLayerList(String(values.layers), 'layers'),
          degrees: optionalNumber(values, 'degrees'),
        });
        steered = { ...base, steering: made.steering };
        description = made.description;
      }
      if (values.compare) {
        console.log('=== baseline ===');
        await stream(model, promptIds, base, process.stdout);
        console.log(`=== steered (${description}) ===`);
        await stream(model, promptIds, steered!, process.stdout);
      } else {
        if (steered) console.error(`steering: ${description}`);
        await stream(model, promptIds, steered ?? base, process.stdout);
      }
    } finally {
      await model.close();
    }
  },
};
