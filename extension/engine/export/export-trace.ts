// `thinkscope export FILE.thinktrace.json --html OUT.html --md OUT.md`: loads and validates a trace
// file, then writes the self-contained HTML and/or the Markdown export.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { join } from 'node:path';
import { parseTraceFile } from '../../common/bundle/trace-load';
import { exportHtml } from '../../common/export/html';
import { exportMarkdown } from '../../common/export/markdown';
import { OutputError, refuseOverwritingInputs, writeFileAtomically } from '../atomic-write';

/** The page script of the HTML export (webview/charts/export-page.ts with d3), built next to the CLI. */
const CHART_SCRIPT_FILE = 'trace-export.js';

export interface ExportTraceOptions {
  /** Where to write the HTML export. */
  html?: string;
  /** Where to write the Markdown export. */
  md?: string;
  /** The chart script's text; read from the build output when not given. */
  chartScript?: string;
}

/** Writes the requested exports of a trace file; returns the paths written. */
export async function exportTrace(tracePath: string, options: ExportTraceOptions): Promise<string[]> {
  if (!options.html && !options.md) throw new Error('nothing to export: give an HTML path (--html OUT.html) and/or a Markdown path (--md OUT.md)');
  if (options.html && options.md && resolve(options.html) === resolve(options.md)) throw new OutputError(`the HTML and the Markdown export cannot both be written to ${options.html}`);
  for (const output of [options.html, options.md]) if (output) await refuseOverwritingInputs(output, [tracePath], 'the export');
  let text: string;
  try {
    text = await readFile(tracePath, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the trace file ${tracePath}: ${(error as Error).message}`);
  }
  let file;
  try {
    file = parseTraceFile(text);
  } catch (error) {
    throw new Error(`${tracePath}: ${(error as Error).message}`);
  }
  const written: string[] = [];
  if (options.html) {
    const chartScript = options.chartScript ?? (await readChartScript());
    await writeFileAtomically(options.html, exportHtml(file, { chartScript }));
    written.push(options.html);
  }
  if (options.md) {
    await writeFileAtomically(options.md, exportMarkdown(file));
    written.push(options.md);
  }
  return written;
}

/** The built chart script: next to the running bundle (dist/), or in dist/ when run from source. */
export async function readChartScript(locations = [join(__dirname, CHART_SCRIPT_FILE), join(__dirname, '..', '..', '..', 'dist', CHART_SCRIPT_FILE)]): Promise<string> {
  for (const location of locations) {
    try {
      return await readFile(location, 'utf8');
    } catch {
      // not built at this location; try the next
    }
  }
  throw new Error(`the HTML export needs ${CHART_SCRIPT_FILE}, which is built by \`npm run build\`; looked in ${locations.join(', ')}`);
}
