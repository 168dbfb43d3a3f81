// `thinkscope demo`: the whole job on the embedded default, with nothing to download — the bundled
// reasoner (media/models/thinkscope-reasoner, a small qwen2 model trained on arithmetic chains of
// thought whose true and decorative steps are known by construction), directions built from its own
// calibration traces (media/samples/reasoner-calibration), the held-out sample trace analysed
// (media/samples/reasoner-trace.md: True Thinking Scores, SEAL classes and latent scores), its decorative
// steps steered along the mined TrueThinking direction and its true steps against it, each beside a
// random vector of the same norm, and
// persona drift on the sample chat (media/samples/reasoner-chat.json); everything exported as trace
// files (demo/reasoner-trace.*, demo/reasoner-chat.*), HTML and Markdown.

import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { version } from '../../../package.json';
import { formatProbability } from '../../common/analysis/counterfactual';
import { serializeTraceFile } from '../../common/bundle/trace-write';
import { writeFileAtomically } from '../../engine/atomic-write';
import { parseTrace } from '../../common/trace/parse';
import type { TraceFile } from '../../common/bundle/trace-file';
import type { Direction } from '../../common/direction';
import { analyzeDocument } from '../../engine/analysis/analyze-document';
import { buildAssistantAxis, loadRoleSet } from '../../engine/analysis/persona';
import { buildSealDirection } from '../../engine/analysis/seal';
import { DEFAULT_HIGH_TTS, DEFAULT_LOW_TTS, mineTrueThinking } from '../../engine/analysis/truethinking-direction';
import { steerStep } from '../../engine/analysis/tts/steer-step';
import { defaultTrueThinkingLayer } from '../../engine/directions/steering-methods';
import { saveDirection } from '../../engine/directions/store';
import { exportTrace } from '../../engine/export/export-trace';
import type { Command } from '../command';
import { openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';

/** A bundled folder next to the bundle (dist/ → media/) or the sources (extension/cli/commands/ → media/). */
function mediaDir(name: string, marker: string): string {
  const candidates = [join(__dirname, '..', 'media', name), join(__dirname, '..', '..', '..', 'media', name)];
  const found = candidates.find((dir) => existsSync(join(dir, marker)));
  if (!found) throw new Error(`the bundled ${name} are missing (looked in ${candidates.join(', ')})`);
  return found;
}

export const bundledReasonerDir = (): string => join(mediaDir('models', join('thinkscope-reasoner', 'config.json')), 'thinkscope-reasoner');

function ttsText(s: TraceFile['steps'][number]): string {
  return s.tts === null ? (s.perturbable ? '–' : 'n/p') : formatProbability(s.tts);
}

const steeringRow = (index: string, push: string, direction: string, control: string, text: string) =>
  `${index.padStart(6)}  ${push.padEnd(4)}  ${direction.padEnd(16)}  ${control.padEnd(16)}  ${text}`;

function summary(file: TraceFile): string {
  const rows = file.steps.map((s) => {
    const latent = s.latentScore === null ? '' : s.latentScore.toFixed(2).padStart(7);
    return `  ${String(s.index).padStart(3)}  ${ttsText(s).padStart(7)}  ${(s.sealClass ?? '').padEnd(10)} ${latent}  ${s.text.replace(/\s+/g, ' ').slice(0, 60)}`;
  });
  const turns = file.turns.map((t) => `  turn ${t.turn}: ${t.projection.toFixed(3)}${t.belowFloor ? '  below the capping floor' : ''}`);
  return [`    #      TTS  class       latent  step`, ...rows, ...(turns.length ? ['', '  persona drift (Assistant-Axis projection per assistant turn):', ...turns] : [])].join('\n');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run everything on the bundled trained reasoner and the bundled sample traces (no download needed).',
  usage: 'demo [--out DIR]',
  options: {
    out: { type: 'string', description: 'folder for the directions, trace files and exports', valueName: 'DIR', default: 'demo' },
  },
  async run(values, _positionals, { signal }) {
    const out = resolve(String(values.out));
    const samples = mediaDir('samples', 'reasoner-trace.md');
    await mkdir(out, { recursive: true });
    const model = await openModelWithProgress(bundledReasonerDir(), { signal });
    const bar = progressBar();
    try {
      const analyze = async (name: string, text: string, what: { tts: boolean; seal?: Direction; axis?: Direction }) => {
        const parsed = parseTrace(text, { fileName: name });
        const result = await analyzeDocument(parsed, {
          name,
          toolVersion: version,
          segmentation: 'paragraph',
          model,
          tts: what.tts ? {} : null,
          // The chat has no thinking to classify: only its turns are projected.
          seal: what.axis ? null : { direction: what.seal },
          persona: what.axis ? { axis: what.axis } : null,
          signal,
          report: (u) => bar.report({ ...u, message: `${name}: ${u.message}` }),
        });
        bar.done();
        return { parsed, ...result };
      };

      // Directions from the model's own calibration traces (problems it never saw in training).
      const calibrationDir = join(samples, 'reasoner-calibration');
      const calibration = [];
      for (const name of (await readdir(calibrationDir)).filter((n) => n.endsWith('.md')).sort()) {
        calibration.push(await analyze(name, await readFile(join(calibrationDir, name), 'utf8'), { tts: true }));
      }
      // Layer 2 of the reasoner's 4: at layer 3 its opening step reads as reflection (see its model card).
      const seal = await buildSealDirection(model, calibration.map((c) => ({ name: c.file.source.name, trace: c.parsed })), { layer: 2, signal, report: bar.report });
      await saveDirection(join(out, 'directions', 'seal'), seal);
      const trueThinking = await mineTrueThinking(model, calibration.map((c) => c.file), { signal, report: bar.report });
      await saveDirection(join(out, 'directions', 'truethinking'), trueThinking);
      // Full-length replies: the floor τ is a percentile of replies like the chat's, so short ones would misplace it.
      const axis = await buildAssistantAxis(model, { roleSet: await loadRoleSet(), signal, report: bar.report });
      await saveDirection(join(out, 'directions', 'assistant-axis'), axis);
      bar.done();

      const trace = await analyze('reasoner-trace.md', await readFile(join(samples, 'reasoner-trace.md'), 'utf8'), { tts: true, seal });
      const chat = await analyze('reasoner-chat.json', await readFile(join(samples, 'reasoner-chat.json'), 'utf8'), { tts: false, axis });
      for (const [name, { file }] of [['reasoner-trace', trace], ['reasoner-chat', chat]] as const) {
        const tracePath = join(out, `${name}.thinktrace.json`);
        await writeFileAtomically(tracePath, serializeTraceFile(file));
        const written = await exportTrace(tracePath, { html: join(out, `${name}.html`), md: join(out, `${name}.md`) });
        console.log(`\n${name}: ${file.steps.length} steps\n${summary(file)}\n  wrote ${[tracePath, ...written].join(', ')}`);
      }
      const agreement = trace.sealAgreement;
      if (agreement?.rate != null) {
        const scored = trace.file.steps.filter((s) => s.latentScore !== null);
        const execution = scored.filter((s) => s.sealClass === 'execution').length;
        const majority = Math.max(execution, scored.length - execution) / scored.length;
        console.log(`\nSEAL latent view (layer ${agreement.layer}): agrees with the keyword class on ${agreement.agreeing} of ${agreement.scored} steps (${(100 * agreement.rate).toFixed(0)}%; always guessing the commoner class: ${(100 * majority).toFixed(0)}%).`);
      }

      // The paper's two tests on every step it can score, each beside a random vector of the same norm: a
      // decorative step pushed along the mined direction (does the model start using it?), a true step
      // pushed against it (does it stop?).
      const layer = defaultTrueThinkingLayer(model.spec.numLayers);
      const rows: string[] = [];
      for (const step of trace.file.steps) {
        if (step.tts === null || (step.tts > DEFAULT_LOW_TTS && step.tts < DEFAULT_HIGH_TTS)) continue;
        const scale = step.tts <= DEFAULT_LOW_TTS ? 1 : -1;
        const { before, after, control } = await steerStep(model, trace.parsed, { segmentation: 'paragraph', step: step.index, direction: trueThinking, layer, scale, signal });
        rows.push(steeringRow(String(step.index), scale > 0 ? '+1' : '−1', `${formatProbability(before.tts)} → ${formatProbability(after.tts)}`, `${formatProbability(before.tts)} → ${formatProbability(control.tts)}`, step.text));
      }
      console.log(
        `\nSteering with the TrueThinking direction at layer ${layer} on each step's tokens, decorative steps along it (+1) and true steps\n` +
          `against it (−1); the control pushes a random vector of the same norm the same way:\n` +
          [steeringRow('#', 'push', 'TTS, direction', 'TTS, control', 'step'), ...rows].join('\n'),
      );
      console.log(`\nOpen ${join(out, 'reasoner-trace.html')} in a browser.`);
    } finally {
      bar.done();
      await model.close();
    }
  },
};
