// `thinkscope demo`: the whole job on an embedded default, with nothing to download — a tiny random
// model made here, directions built from the bundled samples, both samples analysed (True Thinking
// Scores, SEAL classes and latent scores, persona drift) and exported as trace files, HTML and Markdown.
// The model's weights are random, so the scores show the machinery, not a finding.

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { version } from '../../../package.json';
import { serializeTraceFile } from '../../common/bundle/trace-write';
import { writeFileAtomically } from '../../engine/atomic-write';
import { parseTrace } from '../../common/trace/parse';
import type { TraceFile } from '../../common/bundle/trace-file';
import { analyzeDocument } from '../../engine/analysis/analyze-document';
import { buildAssistantAxis, FAST_AXIS, loadRoleSet } from '../../engine/analysis/persona';
import { buildSealDirection } from '../../engine/analysis/seal';
import { saveDirection } from '../../engine/directions/store';
import { exportTrace } from '../../engine/export/export-trace';
import { makeModel } from '../../engine/make-model/make-model';
import { integerOption, type Command } from '../command';
import { openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';

/** The bundled samples, next to the bundle (dist/ → media/) or the sources (extension/cli/commands/ → media/). */
function samplesDir(): string {
  const candidates = [join(__dirname, '..', 'media', 'samples'), join(__dirname, '..', '..', '..', 'media', 'samples')];
  const found = candidates.find((dir) => existsSync(join(dir, 'sample-trace.md')));
  if (!found) throw new Error(`the bundled samples are missing (looked in ${candidates.join(', ')})`);
  return found;
}

function summary(file: TraceFile): string {
  const rows = file.steps.map((s) => {
    const tts = s.tts === null ? (s.perturbable ? '–' : 'n/p') : s.tts >= 0.001 || s.tts === 0 ? s.tts.toFixed(3) : s.tts.toExponential(1);
    const latent = s.latentScore === null ? '' : s.latentScore.toFixed(2).padStart(7);
    return `  ${String(s.index).padStart(3)}  ${tts.padStart(7)}  ${(s.sealClass ?? '').padEnd(10)} ${latent}  ${s.text.replace(/\s+/g, ' ').slice(0, 60)}`;
  });
  const turns = file.turns.map((t) => `  turn ${t.turn}: ${t.projection.toFixed(3)}${t.belowFloor ? '  below the capping floor' : ''}`);
  return [`    #      TTS  class       latent  step`, ...rows, ...(turns.length ? ['', '  persona drift (Assistant-Axis projection per assistant turn):', ...turns] : [])].join('\n');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run everything on a tiny model made here and the bundled sample traces (no download needed).',
  usage: 'demo [--out DIR] [--seed N]',
  options: {
    out: { type: 'string', description: 'folder for the model, directions, trace files and exports', valueName: 'DIR', default: 'demo' },
    seed: { type: 'string', description: 'seed of the random model', valueName: 'N', default: '7' },
  },
  async run(values, _positionals, { signal }) {
    const out = resolve(String(values.out));
    const samples = samplesDir();
    const modelDir = join(out, 'tiny-qwen2');
    await mkdir(out, { recursive: true });
    if (!existsSync(join(modelDir, 'config.json'))) {
      console.error(`making a tiny random qwen2 model in ${modelDir}`);
      await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: modelDir, seed: integerOption(values, 'seed') });
    }
    const model = await openModelWithProgress(modelDir, { signal });
    const bar = progressBar();
    try {
      const traceText = await readFile(join(samples, 'sample-trace.md'), 'utf8');
      const chatText = await readFile(join(samples, 'persona-chat.json'), 'utf8');
      const trace = parseTrace(traceText, { fileName: 'sample-trace.md' });
      const chat = parseTrace(chatText, { fileName: 'persona-chat.json' });

      const seal = await buildSealDirection(model, [{ name: 'sample-trace.md', trace }], { signal, report: bar.report });
      await saveDirection(join(out, 'directions', 'seal'), seal);
      const axis = await buildAssistantAxis(model, { roleSet: await loadRoleSet(), ...FAST_AXIS, signal, report: bar.report });
      await saveDirection(join(out, 'directions', 'assistant-axis'), axis);

      for (const [name, parsed, persona] of [
        ['sample-trace', trace, false],
        ['persona-chat', chat, true],
      ] as const) {
        const { file } = await analyzeDocument(parsed, {
          name: `${name}${name === 'persona-chat' ? '.json' : '.md'}`,
          toolVersion: version,
          segmentation: 'paragraph',
          model,
          tts: name === 'sample-trace' ? {} : null,
          seal: { direction: seal },
          persona: persona ? { axis } : null,
          signal,
          report: (u) => bar.report({ ...u, message: `${name}: ${u.message}` }),
        });
        bar.done();
        const tracePath = join(out, `${name}.thinktrace.json`);
        await writeFileAtomically(tracePath, serializeTraceFile(file));
        const written = await exportTrace(tracePath, { html: join(out, `${name}.html`), md: join(out, `${name}.md`) });
        console.log(`\n${name}: ${file.steps.length} steps\n${summary(file)}\n  wrote ${[tracePath, ...written].join(', ')}`);
      }
      console.log(`\nThe model's weights are random: the scores show the machinery, not a finding. Open ${join(out, 'sample-trace.html')} in a browser.`);
    } finally {
      bar.done();
      await model.close();
    }
  },
};
