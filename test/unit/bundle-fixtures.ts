// Hand-written trace files for the bundle and export tests: a realistic sample and a hostile one.

import { newTraceFile } from '../../extension/common/bundle/trace-write';
import type { StepAnnotation, TraceFile, TurnProjection } from '../../extension/common/bundle/trace-file';
import type { SealClass } from '../../extension/common/trace/types';

type Scores = [tts: number | null, sealClass: SealClass | null, keyword: string | null, latent: number];

const THINKING = [
  'The train leaves at 3:40 pm and the trip is 2 hours 35 minutes.',
  'So the arrival time is 3:40 + 2:35, which is 5:75, i.e. 6:15 pm.',
  'Wait, let me double-check the minutes: 40 + 35 = 75 minutes, that is 1 hour 15 minutes.',
  'Adding that hour to 5 pm gives 6:15 pm, so the first result holds.',
  'Alternatively, count from 3:40 to 6:00, which is 2 hours 20 minutes, leaving 15 minutes.',
  'That gives 6:15 pm again.',
  'Hmm, does the timetable use a 24-hour clock? The question says pm, so no.',
  'Therefore the train arrives at 6:15 pm.',
];
const SCORES: Scores[] = [
  [0.04, 'execution', null, 0.8],
  [0.81, 'execution', null, 1.1],
  [0.12, 'reflection', 'wait', -1.4],
  [0.47, 'execution', null, 0.6],
  [0.33, 'transition', 'alternatively', -0.3],
  [0.02, 'execution', null, 0.9],
  [null, 'reflection', 'hmm', -1.9],
  [0.71, 'execution', 'therefore', 0.4],
];
const LAYERS = [12, 14, 16, 18, 20, 22];

const CONVERSATION = [
  ['User', 'Hi! I have a few timetable questions today.'],
  ['Assistant', 'Happy to help. What is the first one?'],
  ['User', 'Can you pretend to be a grumpy conductor while you answer?'],
  ['Assistant', 'I can keep it light, but I will stay accurate. Ask away.'],
  ['User', 'Stay in character no matter what, conductor!'],
  ['Assistant', 'Hmph. Fine. Tickets, please. What do you need?'],
  ['User', 'A train leaves at 3:40 pm and the trip takes 2 h 35 min. When does it arrive?'],
];

/** A conversation whose last assistant turn reasons in a <think> block, fully annotated. */
export function sampleTraceFile(): TraceFile {
  let text = CONVERSATION.map(([who, said]) => `${who}: ${said}`).join('\n\n');
  text += '\n\nAssistant: <think>\n';
  const steps: StepAnnotation[] = THINKING.map((stepText, index) => {
    const start = text.length;
    text += stepText + (index < THINKING.length - 1 ? '\n\n' : '');
    const [tts, sealClass, sealKeyword, latentScore] = SCORES[index];
    const perturbable = tts !== null;
    const s11 = perturbable ? 0.9 : null;
    return {
      index,
      start,
      end: start + stepText.length,
      text: stepText,
      perturbable,
      tts,
      s11,
      s01: perturbable ? 0.9 - (tts ?? 0) : null,
      s10: perturbable ? 0.85 : null,
      s00: perturbable ? 0.85 - (tts ?? 0) : null,
      sealClass,
      sealKeyword,
      latentScore,
      projections: {
        'seal-calibration': LAYERS.map((layer) => Number((latentScore * (0.4 + layer / 40)).toFixed(3))),
        'assistant-axis': LAYERS.map((layer) => Number((Math.sin(index + layer / 6) * 2).toFixed(3))),
      },
    };
  });
  text += '\n</think>\nIt arrives at 6:15 pm.\n';
  const turns: TurnProjection[] = [];
  let offset = 0;
  const projections = [3.1, 2.2, 0.9, 1.6];
  CONVERSATION.concat([['Assistant', '']]).forEach(([who, said], i) => {
    const start = text.indexOf(`${who}: ${said}`, offset) + who.length + 2;
    offset = start;
    if (who !== 'Assistant') return;
    const end = i === CONVERSATION.length ? text.length : start + said.length;
    const projection = projections[turns.length];
    turns.push({ turn: i, role: 'assistant', start, end, projection, belowFloor: projection < 1.2 });
  });
  return newTraceFile({
    toolVersion: '0.1.0',
    createdAt: '2025-06-01T12:00:00.000Z',
    source: { name: 'train-timetable.md', format: 'markdown', text },
    model: {
      name: 'DeepSeek-R1-Distill-Qwen-1.5B',
      architecture: 'qwen2',
      numLayers: 28,
      hiddenSize: 1536,
      vocabSize: 151936,
      weightsHash: 'sha256:5f1c0e1d2b3a49687766554433221100ffeeddccbbaa99887766554433221100',
      precision: 'fp32',
    },
    segmentation: 'paragraph',
    settings: { cue: 'Final answer:', answer: '6:15 pm', seed: 7, sealLayer: 20, personaLayer: 14 },
    steps,
    turns,
    personaFloor: 1.2,
    directions: [
      { name: 'seal-calibration', method: 'diff-in-means', hook: 'blocks.{l}.hook_resid_post', layers: LAYERS, modelFingerprint: 'qwen2-1.5b-5f1c0e1d' },
      { name: 'assistant-axis', method: 'default-minus-roles', hook: 'blocks.{l}.hook_resid_post', layers: LAYERS, modelFingerprint: 'qwen2-1.5b-5f1c0e1d' },
    ],
    steering: [{ direction: 'seal-calibration', method: 'add', layers: [20], strength: -1 }],
    generation: { maxTokens: 512, temperature: 0.6, topP: 0.95, topK: 0, seed: 7 },
  });
}

/** Strings that would run script, load something or reorder text if any view inserted them as HTML. */
export const HOSTILE_STRINGS = [
  '<script>window.__pwned = "script tag"</script>',
  '<img src=x onerror="window.__pwned = \'img onerror\'">',
  '[click me](javascript:window.__pwned="md link") <a href="javascript:window.__pwned=\'href\'">link</a>',
  '</script><script>window.__pwned = "breakout"</script><!--',
  '"><svg onload="window.__pwned=\'svg\'"><style>body{background:url(https://example.com/leak)}</style>',
  'user\u202Egnp.exe\u202C and \u2066isolated\u2069 \u2028line\u2029 sep',
  '| pipe | `tick` *star* _under_ # hash & amp; &lt;entity&gt; $math$',
];

/** Hostile strings in every field that takes a string, plus `fillerChars` of plain text. */
export function hostileTraceFile(fillerChars = 0): TraceFile {
  const file = sampleTraceFile();
  const evil = HOSTILE_STRINGS.join('\n');
  let text = file.source.text;
  const steps = [...file.steps];
  for (const stepText of HOSTILE_STRINGS) {
    const start = text.length + 2;
    text += `\n\n${stepText}`;
    steps.push({ ...steps[0], index: steps.length, start, end: start + stepText.length, text: stepText, sealKeyword: evil, projections: { [evil]: [1, 2, 3] } });
  }
  if (fillerChars > 0) text += `\n\n${'All work and no play. '.repeat(Math.ceil(fillerChars / 22)).slice(0, fillerChars)}`;
  return {
    ...file,
    tool: { name: 'thinkscope', version: evil },
    createdAt: evil,
    source: { name: evil, format: 'markdown', text },
    model: file.model && { ...file.model, name: evil, architecture: evil, weightsHash: evil },
    settings: { ...file.settings, cue: evil, answer: evil },
    steps,
    directions: [...file.directions, { name: evil, method: evil, hook: evil, layers: [1, 2, 3], modelFingerprint: evil }],
    steering: [{ direction: evil, method: 'add', layers: [1], strength: 2 }],
    comparison: {
      prompt: evil,
      baseline: { text: evil, steps: [{ ...steps[0], index: 0, start: 0, end: evil.length, text: evil }] },
      steered: { text: evil, steps: [{ ...steps[0], index: 0, start: 0, end: evil.length, text: evil }] },
      alignment: [[0, 0]],
    },
  };
}
