// `thinkscope prune`: remove the decorative steps of a trace (TTS below a threshold, or the lowest
// share by TTS) and check that the answer holds: S and the model's own greedy answer before and after,
// tokens saved. One trace: writes the pruned trace (same format) and a trace file that records what was
// removed. A folder: every trace under every rule, a table and a chart of tokens saved vs answers kept.

import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { version } from '../../../package.json';
import type { PruneRecord, PruneRule } from '../../common/bundle/trace-file';
import { serializeTraceFile } from '../../common/bundle/trace-write';
import { describePruning, parsePruneRule, prunePoints, pruneChartSvg, pruneTable } from '../../common/analysis/prune';
import { SEGMENTATION_POLICIES, type SegmentationPolicy } from '../../common/trace/types';
import { pruneTrace } from '../../engine/analysis/prune';
import { integerOption, required, UsageError, type Command } from '../command';
import { openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';
import { readDocuments } from './analyze';
import { refuseOverwritingInputs, writeFileAtomically } from '../../engine/atomic-write';

const DEFAULT_RULES = '0.005,0.01,0.05,25%,50%';

/** The trace file written beside a pruned trace: PRUNED.md → PRUNED.thinktrace.json. */
export function prunedTraceFilePath(out: string): string {
  return out.replace(/(\.[^./\\]+)?$/, '.thinktrace.json');
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: "Remove a trace's decorative steps (low True Thinking Score) and check that the answer holds: tokens saved vs confidence kept.",
  usage: 'prune TRACE --model DIR --out PRUNED.md [--rule 0.005|50%]   or   prune FOLDER --model DIR --out DIR [--rules 0.005,0.01,25%,50%]',
  positionals: 'TRACE|FOLDER',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' },
    rule: { type: 'string', description: 'one trace: a TTS threshold (steps below it go) or the lowest share of steps by TTS, as N%', valueName: 'RULE', default: '50%' },
    rules: { type: 'string', description: 'a folder: the rules to compare, comma-separated', valueName: 'LIST', default: DEFAULT_RULES },
    segment: { type: 'string', description: 'how the thinking is cut into steps: sentence, paragraph or markers', valueName: 'POLICY', default: 'sentence' },
    cue: { type: 'string', description: 'text after the thinking that asks for the answer (default: "\\n The final answer is \\boxed{")', valueName: 'TEXT' },
    answer: { type: 'string', description: "the answer to score (default: the trace's \\boxed{} answer)", valueName: 'TEXT' },
    threads: { type: 'string', description: 'onnxruntime threads (0 = all cores)', valueName: 'N' },
    out: { type: 'string', description: 'one trace: the pruned trace (its trace file goes beside it as .thinktrace.json); a folder: the folder for the table and chart', valueName: 'PATH' },
  },
  async run(values, positionals, { signal }) {
    if (positionals.length !== 1) throw new UsageError('give one trace file or one folder of traces (see --help)');
    const out = resolve(required(values, 'out'));
    const segmentation = String(values.segment) as SegmentationPolicy;
    if (!SEGMENTATION_POLICIES.includes(segmentation)) throw new UsageError(`--segment must be one of ${SEGMENTATION_POLICIES.join(', ')}; got "${segmentation}"`);
    await refuseOverwritingInputs(out, positionals, '--out');
    await refuseOverwritingInputs(prunedTraceFilePath(out), positionals, 'the pruned trace file');
    const { documents, fromFolder } = await readDocuments(positionals, out);
    const rules = parseRules(fromFolder ? String(values.rules) : String(values.rule));
    const model = await openModelWithProgress(required(values, 'model'), { threads: integerOption(values, 'threads', 0), signal });
    const bar = progressBar();
    const records: PruneRecord[] = [];
    try {
      for (const [n, doc] of documents.entries()) {
        const result = await pruneTrace(model, doc.trace, {
          name: doc.name,
          toolVersion: version,
          segmentation,
          conversation: doc.conversation,
          cue: typeof values.cue === 'string' ? values.cue : undefined,
          answer: typeof values.answer === 'string' ? values.answer : undefined,
          rules,
          signal,
          report: (update) => bar.report({ ...update, message: `${documents.length > 1 ? `trace ${n + 1} of ${documents.length}: ` : ''}${update.message}` }),
        });
        bar.done();
        for (const pruned of result.pruned) {
          records.push(pruned.record);
          console.error(`${doc.name}: ${describePruning(pruned.record, result.steps.length)}`);
        }
        if (!fromFolder) {
          const [pruned] = result.pruned;
          await writeFileAtomically(out, pruned.text);
          await writeFileAtomically(prunedTraceFilePath(out), serializeTraceFile(pruned.file));
          console.error(`wrote ${out} and ${basename(prunedTraceFilePath(out))}`);
        }
      }
    } finally {
      bar.done();
      await model.close();
    }
    if (fromFolder) {
      await mkdir(out, { recursive: true });
      const points = prunePoints(records);
      const table = pruneTable(points);
      await writeFileAtomically(join(out, 'prune-table.md'), `# Pruning ${documents.length} traces\n\n${table}\n![tokens saved vs answers kept](prune-chart.svg)\n`);
      await writeFileAtomically(join(out, 'prune-chart.svg'), pruneChartSvg(points));
      await writeFileAtomically(join(out, 'prune-results.jsonl'), records.map((record) => JSON.stringify(record)).join('\n') + '\n');
      console.log(table);
      console.error(`wrote ${join(out, 'prune-table.md')}, prune-chart.svg and prune-results.jsonl`);
    }
  },
};

function parseRules(text: string): PruneRule[] {
  try {
    return text.split(',').map(parsePruneRule);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
