// `thinkscope prune`: remove the decorative steps of a trace (TTS below a threshold, or the lowest
// share by TTS) and check that the answer holds: S and the model's own greedy answer before and after,
// tokens saved. One trace: writes the pruned trace (same format) and a trace file that records what was
// removed. A folder: every trace under every rule, a table and a chart of tokens saved vs answers kept.

import { basename, resolve } from 'node:path';
import { version } from '../../../package.json';
import type { PruneRule } from '../../common/bundle/trace-file';
import { serializeTraceFile } from '../../common/bundle/trace-write';
import { DEFAULT_BATCH_RULES, describePruning, parsePruneRules } from '../../common/analysis/prune';
import { SEGMENTATION_POLICIES, type SegmentationPolicy } from '../../common/trace/types';
import { pruneTrace } from '../../engine/analysis/prune';
import { pruneDocuments, writePruneReport } from '../../engine/analysis/prune-batch';
import { integerOption, required, UsageError, type Command } from '../command';
import { openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';
import { readDocuments } from './analyze';
import { refuseOverwritingInputs, writeFileAtomically } from '../../engine/atomic-write';

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
    rules: { type: 'string', description: 'a folder: the rules to compare, comma-separated', valueName: 'LIST', default: DEFAULT_BATCH_RULES },
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
    if (!fromFolder && documents.length > 1) throw new UsageError(`${positionals[0]} holds ${documents.length} traces: put them in a folder to prune them as a batch`);
    const rules = parseRules(fromFolder ? String(values.rules) : String(values.rule));
    const model = await openModelWithProgress(required(values, 'model'), { threads: integerOption(values, 'threads', 0), signal });
    const bar = progressBar();
    const settings = { segmentation, cue: typeof values.cue === 'string' ? values.cue : undefined, answer: typeof values.answer === 'string' ? values.answer : undefined };
    try {
      if (fromFolder) {
        const records = await pruneDocuments(model, documents, {
          ...settings,
          toolVersion: version,
          rules,
          signal,
          report: (update) => bar.report(update),
          onTrace: (doc, traceRecords, stepCount) => {
            bar.done();
            for (const record of traceRecords) console.error(`${doc.name}: ${describePruning(record, stepCount)}`);
          },
        });
        const report = await writePruneReport(out, records, documents.length);
        console.log(report.table);
        console.error(`wrote ${report.written.table}, prune-chart.svg and prune-results.jsonl`);
        return;
      }
      const [doc] = documents;
      const result = await pruneTrace(model, doc.trace, { ...settings, name: doc.name, toolVersion: version, conversation: doc.conversation, rules, signal, report: (update) => bar.report(update) });
      bar.done();
      const [pruned] = result.pruned;
      console.error(`${doc.name}: ${describePruning(pruned.record, result.steps.length)}`);
      await writeFileAtomically(out, pruned.text);
      await writeFileAtomically(prunedTraceFilePath(out), serializeTraceFile(pruned.file));
      console.error(`wrote ${out} and ${basename(prunedTraceFilePath(out))}`);
    } finally {
      bar.done();
      await model.close();
    }
  },
};

function parseRules(text: string): PruneRule[] {
  try {
    return parsePruneRules(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
