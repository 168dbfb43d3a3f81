// `thinkscope export`: a saved trace file as one self-contained HTML page and/or Markdown.

import { exportTrace } from '../../engine/export/export-trace';
import { UsageError, type Command } from '../command';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export an annotated trace file as self-contained HTML and/or Markdown.',
  usage: 'export FILE.thinktrace.json [--html OUT.html] [--md OUT.md]',
  positionals: 'FILE.thinktrace.json',
  options: {
    html: { type: 'string', description: 'write a self-contained HTML page (no network access, works offline)', valueName: 'OUT.html' },
    md: { type: 'string', description: 'write Markdown (steps table and the trace with inline markers)', valueName: 'OUT.md' },
  },
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError('give exactly one trace file (see --help)');
    const written = await exportTrace(positionals[0], { html: values.html as string | undefined, md: values.md as string | undefined });
    for (const path of written) console.error(`wrote ${path}`);
  },
};
