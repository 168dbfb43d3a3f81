// Turns the raw measurements into the figures the targets speak of, a terminal table, the JSON object
// of `--json` and BENCHMARKS.md.

import type { ModelSpec } from '../../extension/common/model-spec';
import type { Roofline } from './roofline';
import { signTestP, summarize, type Sample, type Summary } from './stats';
import type { BatchResult, LoadResult, OverheadResult, PeerResult, QualityResult, SpeedResult, SpeedupResult, TtsResult } from './workers';
import { TTS_STEPS, TTS_TRACE_TOKENS } from './tts-cost';
import { BATCH_PROMPT_TOKENS, DECODE_TOKENS, OVERHEAD_BLOCK, PREFILL_TOKENS } from './workers';
import { SHORT_CONTEXT, type Fidelity, type PeerPair } from './peer';
import { WHAT_IF_TRACE_TOKENS, type WhatIfResult } from './what-if-cost';
import type { Precision } from '../../extension/common/precision';

export interface BenchInputs {
  preset: string;
  machine: string;
  threads: number;
  runs: number;
  spec: ModelSpec;
  fp32WeightBytes: number;
  /** Weight bytes a decode step reads, per precision. */
  decodeBytes: Record<Precision, number>;
  prefillFlops: number;
  roofline: Roofline;
  load: { fp32: LoadResult; int4: LoadResult };
  speed: { fp32: SpeedResult; int4: SpeedResult };
  overhead: OverheadResult;
  speedup: SpeedupResult;
  tts: TtsResult;
  batch: BatchResult;
  /** Against llama.cpp, one entry per bit width. */
  peer: { pair: PeerPair; result: PeerResult }[];
  quality: QualityResult;
  /** The same on the trained model the project ships, when it is there. */
  trainedQuality: (QualityResult & { model: string }) | null;
  llamaVersion: string;
  /** Live counterfactual readout and logit lens, by model (the preset, and the trained default when bundled). */
  whatIf: Record<string, WhatIfResult>;
  seconds: number;
}

interface Row {
  figure: string;
  value: Summary | number | null;
  unit: string;
  /** `limit`: for a missed target, what the measurements say limits it. */
  target?: { text: string; met: boolean; limit?: string };
}

export interface BenchSummary {
  rows: Row[];
  json: Record<string, number | null>;
}

/** The best kernel's median: the ceiling onnxruntime demonstrably reaches on this machine. */
function best(samples: Record<string, Sample>): { name: string; summary: Summary } {
  const entries = Object.entries(samples).map(([name, s]) => ({ name, summary: summarize(s) }));
  return entries.reduce((a, b) => (b.summary.median > a.summary.median ? b : a));
}

const scale = (s: Summary, k: number): Summary => ({ median: s.median * k, min: s.min * k, max: s.max * k, runs: s.runs });

export function summarizeBench(inputs: BenchInputs): BenchSummary {
  const peak = best(inputs.roofline.matmul);
  const bandwidth = best(inputs.roofline.bandwidth);
  const prefill = summarize(inputs.speed.fp32.prefill);
  const decode = summarize(inputs.speed.fp32.decode);
  const prefillGflops = scale(prefill, inputs.prefillFlops / PREFILL_TOKENS / 1e9);
  const decodeGBs = scale(decode, inputs.decodeBytes.fp32 / 1e9);
  const int4Decode = summarize(inputs.speed.int4.decode);
  const int4Prefill = summarize(inputs.speed.int4.prefill);
  const speedup = summarize(inputs.speedup.ratio);
  const idle = summarize(inputs.overhead.idle);
  const active = summarize(inputs.overhead.active);
  const loadRatio = inputs.load.fp32.secondSeconds / inputs.load.fp32.firstSeconds;
  const memoryRatio = inputs.speed.fp32.peakRssBytes / inputs.fp32WeightBytes;
  const prefillFraction = prefillGflops.median / peak.summary.median;
  const decodeFraction = decodeGBs.median / bandwidth.summary.median;
  const ttsRatio = summarize(inputs.tts.ratio);
  const batchRatio = summarize(inputs.batch.ratio);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const times = (x: number) => `${x.toFixed(2)}×`;
  // What an int4 step spends beyond reading its weights at full bandwidth: the per-step cost of running the graph.
  const int4StepMs = 1000 / int4Decode.median;
  const int4ReadMs = (inputs.decodeBytes.int4 / 1e9 / bandwidth.summary.median) * 1000;
  const peerRows: Row[] = [];
  const json: Record<string, number | null> = {};
  for (const { pair, result } of inputs.peer) {
    const label = `${pair.precision} / ${pair.gguf}`;
    const key = `${pair.precision}_${pair.gguf.toLowerCase()}`;
    const prefillRatio = summarize(pairwise(result.prefill.ours, result.prefill.theirs, (a, b) => a / b));
    const decodeRatio = summarize(pairwise(result.decode.ours, result.decode.theirs, (a, b) => a / b));
    const growth = { ours: summarize(result.growthMs.ours), theirs: summarize(result.growthMs.theirs) };
    const missing = pair.sameWidth ? '' : `; the engine has no ${pair.gguf === 'F16' ? '16' : '8'}-bit format, so its ${pair.precision} runs against ${pair.gguf}`;
    const stepMs = 1000 / summarize(result.decode.ours).median;
    const readMs = (inputs.decodeBytes[pair.precision] / 1e9 / bandwidth.summary.median) * 1000;
    const prefillLimit =
      pair.precision !== 'fp32'
        ? `projection kernels at ${PREFILL_TOKENS} rows: ${kernelText(inputs.roofline.int4, PREFILL_TOKENS)}${missing}`
        : `fp32 prefill reaches ${prefillGflops.median.toFixed(0)} GFLOP/s of a ${peak.summary.median.toFixed(0)} GFLOP/s MatMul peak${missing}`;
    const decodeLimit =
      `a ${stepMs.toFixed(1)} ms step: ${readMs.toFixed(1)} ms of weight reads at the measured bandwidth, ` +
      `${growth.ours.median.toFixed(1)} ms more at ${PREFILL_TOKENS} positions than at ${SHORT_CONTEXT} ` +
      `(llama.cpp ${growth.theirs.median.toFixed(1)} ms; the engine appends to its cache in place, and each layer copies the cache once into the attention's layout), the rest the fixed cost of one graph run` +
      (pair.precision !== 'fp32' ? `; one-row kernels: ${kernelText(inputs.roofline.int4, 1)}` : '') +
      missing;
    const atLeastOne = (ratio: Summary, limit: string) => ({ text: `≥ 1.0×: ${times(ratio.median)}${pair.sameWidth ? '' : ` (${pair.gguf} against ${pair.precision})`}`, met: pair.sameWidth && ratio.median >= 1, limit });
    peerRows.push(
      { figure: `prefill ${PREFILL_TOKENS} tokens, ${label}: ThinkScope / llama.cpp`, value: null, unit: `${summarize(result.prefill.ours).median.toFixed(1)} / ${summarize(result.prefill.theirs).median.toFixed(1)} tokens/s` },
      { figure: `prefill ${label}: ThinkScope ÷ llama.cpp`, value: prefillRatio, unit: '×', target: atLeastOne(prefillRatio, prefillLimit) },
      { figure: `decode ${DECODE_TOKENS} tokens, ${label}: ThinkScope / llama.cpp`, value: null, unit: `${summarize(result.decode.ours).median.toFixed(1)} / ${summarize(result.decode.theirs).median.toFixed(1)} tokens/s` },
      { figure: `decode ${label}: ThinkScope ÷ llama.cpp`, value: decodeRatio, unit: '×', target: atLeastOne(decodeRatio, decodeLimit) },
      {
        figure: `extra ms per decode step, context ${PREFILL_TOKENS} vs ${SHORT_CONTEXT}, ${label}: ThinkScope / llama.cpp`,
        value: null,
        unit: `${growth.ours.median.toFixed(1)} [${growth.ours.min.toFixed(1)} … ${growth.ours.max.toFixed(1)}] / ${growth.theirs.median.toFixed(1)} [${growth.theirs.min.toFixed(1)} … ${growth.theirs.max.toFixed(1)}] ms`,
      },
    );
    Object.assign(json, {
      [`prefill_ratio_${key}`]: prefillRatio.median,
      [`decode_ratio_${key}`]: decodeRatio.median,
      [`prefill_tokens_per_s_${key}`]: summarize(result.prefill.ours).median,
      [`llama_prefill_tokens_per_s_${key}`]: summarize(result.prefill.theirs).median,
      [`decode_tokens_per_s_${key}`]: summarize(result.decode.ours).median,
      [`llama_decode_tokens_per_s_${key}`]: summarize(result.decode.theirs).median,
      [`context_growth_ms_${key}`]: growth.ours.median,
      [`llama_context_growth_ms_${key}`]: growth.theirs.median,
    });
  }
  const qualityRows = (quality: QualityResult, model: string, prefix: string): Row[] => [
    { figure: `${model}: llama.cpp F32 vs ThinkScope fp32, max |Δ log p|`, value: quality.logitDifference, unit: 'nats' },
    ...quality.formats.flatMap(({ precision, gguf, ours, theirs }): Row[] => {
      json[`${prefix}llama_kl_${gguf.toLowerCase()}`] = theirs.meanKl;
      json[`${prefix}llama_top1_${gguf.toLowerCase()}`] = theirs.top1Agreement;
      if (!ours) return [{ figure: `${model}: mean KL to fp32 / top-1, llama.cpp ${gguf}`, value: null, unit: `${theirs.meanKl.toExponential(2)} nats / ${pct(theirs.top1Agreement)}` }];
      json[`${prefix}kl_${precision}_vs_${gguf.toLowerCase()}`] = ours.meanKl;
      json[`${prefix}top1_${precision}_vs_${gguf.toLowerCase()}`] = ours.top1Agreement;
      const sameWidth = inputs.peer.find((p) => p.pair.gguf === gguf)?.pair.sameWidth ?? false;
      const met = sameWidth && ours.meanKl <= theirs.meanKl && ours.top1Agreement >= theirs.top1Agreement;
      const limit = sameWidth
        ? `${qualityGap(ours, theirs, quality.positions)}; both round weights and activations to symmetric blocks of 32 (the engine's ${precision} weight scales in float32, ${gguf}'s in float16): the gap is how individual values round`
        : `the engine has no ${gguf === 'F16' ? '16' : '8'}-bit format: its ${precision} is compared`;
      return [
        {
          figure: `${model}: mean KL to fp32 / top-1, ${precision} vs ${gguf}`,
          value: null,
          unit: `${ours.meanKl.toExponential(2)} / ${theirs.meanKl.toExponential(2)} nats, ${pct(ours.top1Agreement)} / ${pct(theirs.top1Agreement)}`,
          target: { text: 'KL and top-1 no worse than llama.cpp', met, limit },
        },
      ];
    }),
  ];
  const rows: Row[] = [
    { figure: `MatMul peak (${peak.name})`, value: peak.summary, unit: 'GFLOP/s' },
    { figure: `streaming bandwidth (${bandwidth.name})`, value: bandwidth.summary, unit: 'GB/s' },
    ...Object.entries(inputs.roofline.int4).map(([name, sample]): Row => ({ figure: `projection kernel ${PROJECTION_SHAPE}: ${name}`, value: summarize(sample), unit: 'GFLOP/s' })),
    { figure: `prefill ${PREFILL_TOKENS} tokens, fp32`, value: prefill, unit: 'tokens/s' },
    { figure: 'prefill achieved', value: prefillGflops, unit: 'GFLOP/s', target: { text: `≥ 0.6 of peak: ${prefillFraction.toFixed(2)}`, met: prefillFraction >= 0.6 } },
    { figure: `decode ${DECODE_TOKENS} tokens, fp32`, value: decode, unit: 'tokens/s' },
    { figure: 'decode achieved weight reads', value: decodeGBs, unit: 'GB/s', target: { text: `≥ 0.6 of bandwidth: ${decodeFraction.toFixed(2)}`, met: decodeFraction >= 0.6 } },
    ...peerRows,
    ...qualityRows(inputs.quality, `generated ${inputs.preset}`, ''),
    ...(inputs.trainedQuality ? qualityRows(inputs.trainedQuality, inputs.trainedQuality.model, 'trained_') : []),
    { figure: 'decode, steering added at every layer', value: summarize(inputs.speed.fp32.steered), unit: 'tokens/s' },
    { figure: 'decode, capturing one hook at every layer', value: summarize(inputs.speed.fp32.captured), unit: 'tokens/s' },
    {
      figure: 'steering blocks idle vs none (decode time; a session has blocks only at the hook kinds it has steered)',
      value: scale(idle, 100),
      unit: '% slower',
      target: { text: `≤ 2%: ${pct(idle.median)}`, met: idle.median <= 0.02, limit: `${steeringText((idle.median * 1000) / decode.median)}; they stay once a session has steered there` },
    },
    {
      figure: 'steering active at every layer vs none',
      value: scale(active, 100),
      unit: '% slower',
      target: { text: `≤ 3%: ${pct(active.median)}`, met: active.median <= 0.03, limit: `${steeringText((active.median * 1000) / decode.median)}; active blocks cost what idle ones do (the same kernels on non-zero inputs)` },
    },
    {
      figure: `baseline + steered reply as a batch of two / the steered reply alone (${BATCH_PROMPT_TOKENS}-token prompt, ${DECODE_TOKENS} tokens)`,
      value: batchRatio,
      unit: '×',
      target: {
        text: `≤ 1.2×: ${times(batchRatio.median)}`,
        met: batchRatio.median <= 1.2,
        limit: 'the two replies\' prompt passes differ (one is steered) and run packed, twice the prompt tokens; each step attends over both replies\' cache slots, masked, and concatenates the shared cache',
      },
    },
    {
      figure: `prefill ${PREFILL_TOKENS} tokens, int4`,
      value: int4Prefill,
      unit: 'tokens/s',
      target: {
        text: `≥ fp32 prefill: ${(int4Prefill.median / prefill.median).toFixed(2)}× (${(int4Prefill.min / prefill.max).toFixed(2)} … ${(int4Prefill.max / prefill.min).toFixed(2)})`,
        met: int4Prefill.median >= prefill.median,
        limit: `its projections are MatMulNBits at accuracy level 4 (activations quantized to int8 per block), at ${PREFILL_TOKENS} rows: ${kernelText(inputs.roofline.int4, PREFILL_TOKENS)}; fp32 reaches ${prefillGflops.median.toFixed(0)} GFLOP/s`,
      },
    },
    { figure: `decode ${DECODE_TOKENS} tokens, int4`, value: int4Decode, unit: 'tokens/s' },
    { figure: 'int4 decode speedup over fp32 (paired runs)', value: speedup, unit: '×' },
    { figure: 'int4 decode step: weight reads at bandwidth / the rest', value: null, unit: `${int4ReadMs.toFixed(1)} ms / ${(int4StepMs - int4ReadMs).toFixed(1)} ms` },
    { figure: 'first load fp32 (build + session)', value: inputs.load.fp32.firstSeconds, unit: 's' },
    { figure: 'second load fp32 (cache hit)', value: inputs.load.fp32.secondSeconds, unit: 's', target: { text: `≤ 1/5 of first: ${loadRatio.toFixed(3)}`, met: loadRatio <= 0.2 } },
    { figure: 'first / second load int4', value: null, unit: `${inputs.load.int4.firstSeconds.toFixed(1)} s / ${inputs.load.int4.secondSeconds.toFixed(1)} s` },
    { figure: 'peak resident memory fp32', value: inputs.speed.fp32.peakRssBytes / 2 ** 30, unit: 'GiB', target: { text: `≤ 1.5× fp32 weights: ${memoryRatio.toFixed(2)}×`, met: memoryRatio <= 1.5 } },
    { figure: 'peak resident memory int4', value: inputs.speed.int4.peakRssBytes / 2 ** 30, unit: 'GiB' },
    {
      figure: `TTS time / one forward (${TTS_TRACE_TOKENS} tokens, ${TTS_STEPS} steps)`,
      value: ttsRatio,
      unit: '×',
      target: {
        text: `≤ 4×: ${ttsRatio.median.toFixed(2)}×`,
        met: ttsRatio.median <= 4,
        limit: 'two full passes (intact and perturbed) plus about 2,900 packed question tokens, two forwards a pack (one per trace), each token attending over its trace\'s cached prefix with a mask',
      },
    },
    ...whatIfRows(inputs),
    { figure: 'TTS time / one forward: seconds', value: null, unit: `${summarize(inputs.tts.ttsSeconds).median.toFixed(1)} s / ${summarize(inputs.tts.forwardSeconds).median.toFixed(2)} s` },
  ];
  Object.assign(json, {
    prefill_tokens_per_s: prefill.median,
    prefill_fraction_of_peak: prefillFraction,
    decode_tokens_per_s: decode.median,
    decode_fraction_of_bandwidth: decodeFraction,
    int4_decode_speedup: speedup.median,
    int4_decode_tokens_per_s: int4Decode.median,
    llama_logit_difference: inputs.quality.logitDifference,
    steering_idle_overhead: idle.median,
    steering_active_overhead: active.median,
    batch_of_two_ratio: batchRatio.median,
    capture_decode_tokens_per_s: summarize(inputs.speed.fp32.captured).median,
    first_load_s: inputs.load.fp32.firstSeconds,
    second_load_s: inputs.load.fp32.secondSeconds,
    second_load_ratio: loadRatio,
    peak_memory_bytes: inputs.speed.fp32.peakRssBytes,
    peak_memory_ratio: memoryRatio,
    matmul_peak_gflops: peak.summary.median,
    bandwidth_gbs: bandwidth.summary.median,
    tts_cost_ratio: ttsRatio.median,
    ...Object.fromEntries(
      Object.entries(inputs.whatIf).flatMap(([name, result]) => {
        const key = name === inputs.preset ? '' : '_trained_default';
        return [
          [`what_if_readout_ms${key}`, summarize(result.readoutSeconds).median * 1000],
          [`logit_lens_over_tts${key}`, summarize(result.lensOverTts).median],
        ];
      }),
    ),
  });
  return { rows, json };
}

const PROJECTION_SHAPE = '896 → 4864';

/**
 * Which quality figure falls short of llama.cpp's, and by how much (top-1 as a count of positions, with
 * the positions where only one engine misses fp32's top token paired, to tell a gap from chance).
 */
function qualityGap(ours: Fidelity, theirs: Fidelity, positions: number): string {
  const kl = `mean KL ${ours.meanKl.toExponential(2)} against ${theirs.meanKl.toExponential(2)}`;
  const onlyOurs = ours.top1Hits.filter((hit, i) => !hit && theirs.top1Hits[i]).length;
  const onlyTheirs = theirs.top1Hits.filter((hit, i) => !hit && ours.top1Hits[i]).length;
  const p = signTestP(onlyOurs, onlyTheirs);
  const paired = `of the positions where one engine alone misses fp32's top token, ThinkScope misses ${onlyOurs}, llama.cpp ${onlyTheirs} (two-sided sign test p = ${p.toFixed(2)}${p >= 0.05 ? ': a split this uneven is common by chance' : ''})`;
  const top1 = `top-1 ${Math.round(ours.top1Agreement * positions)} against ${Math.round(theirs.top1Agreement * positions)} of ${positions} positions`;
  const worseKl = ours.meanKl > theirs.meanKl;
  const worseTop1 = ours.top1Agreement < theirs.top1Agreement;
  if (worseKl && worseTop1) return `${kl} and ${top1}; ${paired}`;
  return worseKl ? `${kl} (${top1})` : `${top1} (${kl}, lower); ${paired}`;
}

/** The projection kernels at `rows` rows, in GFLOP/s medians. */
function kernelText(kernels: Record<string, Sample>, rows: number): string {
  return Object.entries(kernels)
    .filter(([name]) => name.endsWith(`, ${rows} rows`))
    .map(([name, sample]) => `${name.replace(`, ${rows} rows`, '')} ${summarize(sample).median.toFixed(rows === 1 ? 1 : 0)} GFLOP/s`)
    .join(', ');
}

/** What steering blocks cost per decode step, from a measured fraction of an fp32 step. */
function steeringText(ms: number): string {
  return `about ${ms.toFixed(1)} ms per fp32 decode step: 2 kernels at each residual-stream hook point (the FusedGemm readout and the Gemm write-back) and 3 inputs each fed through the Node binding`;
}

/** The what-if rows alone (`npm run bench -- --what-if`), as the full run's table shows them. */
export function renderWhatIf(inputs: Pick<BenchInputs, 'preset' | 'whatIf'>): string {
  return renderTable({ rows: whatIfRows(inputs) } as BenchSummary);
}

/**
 * The `--what-if` section of BENCHMARKS.md: its rows as the full run's table shows them, with the machine
 * and its load average (1 minute) when the run started and ended, since a loaded machine stretches times.
 */
export function renderWhatIfSection(inputs: Pick<BenchInputs, 'preset' | 'whatIf' | 'machine' | 'threads' | 'runs'>, load: { start: number; end: number }): string {
  const table = whatIfRows(inputs).map((row) => {
    const [median, min, max] = formatValue(row.value);
    return `| ${row.figure} | ${median} | ${min} | ${max} | ${row.unit} | ${targetCell(row)} |`;
  });
  return [
    '## Live counterfactuals (`npm run bench -- --what-if`)',
    '',
    `Written ${new Date().toISOString().slice(0, 10)} by \`npm run bench -- --what-if\` (${inputs.runs} runs each). Machine: ${inputs.machine}; onnxruntime threads: ${inputs.threads}.`,
    `Load average when it started ${load.start.toFixed(1)}, when it ended ${load.end.toFixed(1)}: above the core count the times are stretched by the other jobs.`,
    'The readout is the engine\'s part of keystroke-to-readout after the middle step\'s first number is edited: tokenizing, forking the',
    'cache at the first changed token, the rest of the trace, the cue and the answer teacher-forced in one forward, and the greedy answer',
    '(where it leaves the answer, the tokens ahead are guessed from the analysed trace\'s greedy answer or what followed the same token, and fed in one forward).',
    '',
    '| figure | median | min | max | unit | target |',
    '|---|---|---|---|---|---|',
    ...table,
  ].join('\n');
}

/** Readout after an edit of the middle step (goal ≤ 1 s for the preset, ≤ 100 ms for the trained default) and the lens against TTS. */
function whatIfRows(inputs: Pick<BenchInputs, 'preset' | 'whatIf'>): Row[] {
  return Object.entries(inputs.whatIf).flatMap(([name, result]) => {
    const goal = name === inputs.preset ? 1000 : 100;
    const readout = scale(summarize(result.readoutSeconds), 1000);
    const lens = summarize(result.lensOverTts);
    return [
      {
        figure: `what-if readout, edit mid-trace (${name}, ${result.traceTokens} tokens)`,
        value: readout,
        unit: 'ms',
        target: { text: `≤ ${goal} ms: ${readout.median.toFixed(0)} ms, ${result.recomputed} tokens recomputed`, met: readout.median <= goal },
      },
      { figure: `logit lens time / TTS time (${name})`, value: lens, unit: '×', target: { text: `< 1×: ${lens.median.toFixed(2)}×`, met: lens.median < 1 } },
    ];
  });
}

/** f applied to the i-th items of two samples taken in the same runs. */
function pairwise(a: Sample, b: Sample, f: (x: number, y: number) => number): Sample {
  return a.map((x, i) => f(x, b[i]));
}

function formatValue(value: Row['value']): string[] {
  if (value === null) return ['—', '', ''];
  if (typeof value === 'number') return [value.toPrecision(4), '', ''];
  return [value.median.toPrecision(4), value.min.toPrecision(4), value.max.toPrecision(4)];
}

function targetCell(row: Row): string {
  if (!row.target) return '';
  return `${row.target.met ? 'met' : 'MISSED'} (${row.target.text})`;
}

export function renderTable(summary: BenchSummary): string {
  const lines = summary.rows.map((row) => {
    const [median, min, max] = formatValue(row.value);
    return `${row.figure.padEnd(52)} ${median.padStart(10)} ${(min && `[${min} … ${max}]`).padEnd(24)} ${row.unit.padEnd(10)} ${targetCell(row)}`;
  });
  return [`${'figure'.padEnd(52)} ${'median'.padStart(10)} ${'[min … max]'.padEnd(24)} unit`, ...lines].join('\n');
}

export function renderMarkdown(inputs: BenchInputs, summary: BenchSummary): string {
  const { spec } = inputs;
  const table = summary.rows.map((row) => {
    const [median, min, max] = formatValue(row.value);
    return `| ${row.figure} | ${median} | ${min} | ${max} | ${row.unit} | ${targetCell(row)} |`;
  });
  return `# Benchmarks

Written by \`npm run bench\` (${new Date().toISOString().slice(0, 10)}, ${inputs.seconds.toFixed(0)} s). Model: generated \`${inputs.preset}\`
(${spec.numLayers} layers, hidden ${spec.hiddenSize}, vocabulary ${spec.vocabSize}; ${(inputs.fp32WeightBytes / 1e9).toFixed(2)} GB of fp32 weights).
Machine: ${inputs.machine}; threads of onnxruntime and of llama.cpp: ${inputs.threads}.
Each figure is the median of ${inputs.runs} runs (the roofline of at least 5) with min and max; overheads and the int4 speedup are
ratios of runs taken back to back within one run of the benchmark.

| figure | median | min | max | unit | target |
|---|---|---|---|---|---|
${table.join('\n')}

## What limits each missed target

${summary.rows
  .filter((row) => row.target && !row.target.met)
  .map((row) => `- **${row.figure}** (${row.target!.text}): ${row.target!.limit ?? 'see the definitions below'}.`)
  .join('\n') || 'Every target is met.'}

## How the figures are defined

- **Roofline**, measured with onnxruntime itself: the best median of two fp32 MatMuls with the weight as a prepacked
  initializer (GFLOP/s), and the best median of two kernels that read 1 GiB once (ReduceSum, and one row times a matrix).
  The projection kernels profile the largest projection of the 0.5B model (896 → 4864) at 512 rows (a prefill) and at 1 row
  (a decode step): fp32 MatMul, int4 MatMulNBits at accuracy level 0 (float32 compute from dequantized tiles) and 4 (rows
  quantized to int8 for the CPU's integer dot-product units, what the quantized graphs use), and int8 at 4; and the int8
  blocks widened to float32 in the graph (DequantizeLinear by blocks) before one fp32 Gemm, the route around MatMulNBits'
  integer kernels (it would hold the codes a second time beside MatMulNBits' packed copy). All interleaved run by run.
- **Prefill** of ${PREFILL_TOKENS} tokens from an empty cache, logits of the last row only. Achieved GFLOP/s counts the matrix work
  the model needs: every projection for every token, causal attention (QKᵀ and PV over the visible keys only), one row of
  logits (${(inputs.prefillFlops / 1e9).toFixed(0)} GFLOP).
- **Decode**: ${DECODE_TOKENS} greedy tokens after that prefill, through \`generate\`; the rate counts the ${DECODE_TOKENS - 1} steps after the
  first token. Weight bytes per step: every weight once except the embedding table, of which one row is gathered
  (fp32 ${(inputs.decodeBytes.fp32 / 1e9).toFixed(2)} GB, int4 ${(inputs.decodeBytes.int4 / 1e9).toFixed(2)} GB); KV-cache reads are left out (under 1% here).
- **Steering overheads**: a session has steering blocks only at the hook kinds it has steered or probed at (the first
  such run reopens it over the same weights with blocks at that kind's every layer), so one that has not steered runs
  the plain graph. The figures compare that session with one that has blocks at the residual stream (every layer's
  \`hook_resid_post\` and \`blocks.0.hook_resid_pre\`), run idle (zero inputs) and with an addition at every layer:
  the three decode ${DECODE_TOKENS} tokens after the same prompt in turns of
  ${OVERHEAD_BLOCK} steps in rotating order (the first of each turn not timed), and a run compares their median step times. A block is two kernels,
  FusedGemm(x, W, b, relu) and Gemm(r, U, + x), fed three tensors; a linear column of the plan runs as two relu columns
  (relu(z) − relu(−z) = z) and a position gate as a bias of −∞, so no kernel handles gates or activation slopes.
  Small kernels and inputs fed through the Node binding cost a share of a step that moves with the machine's speed and
  load from run to run: read it with its min and max.
- **int4**: block-quantized weights (MatMulNBits, 4 bits, blocks of 32, symmetric, each block's scale the one of five with the
  least squared error, accuracy level 4) for every projection and the output layer; the embedding stays fp32.
- **llama.cpp** (node-llama-cpp ${inputs.llamaVersion}, its prebuilt CPU build, installed by the benchmark into \`.bench/llama\` on
  first use) runs the same checkpoint written as GGUF by \`test/bench/gguf-model.ts\` (llama.cpp's qwen2 tensor names; every
  matrix, the embedding included, in F32, F16, Q8_0 or Q4_0 blocks as ggml's reference quantizers make them; norms and biases
  F32), with the engine's thread count, its default F16 KV cache and flash attention, a batch as large as the prompt.
  Each bit width is a pair: the engine's format of that width, or the nearest it has (named in the row). The two engines
  alternate run by run in one process; a ratio is taken per run (ThinkScope ÷ llama.cpp rates) and summarized with min
  and max. Context growth: the decode step time after a ${PREFILL_TOKENS}-token prefill minus that after ${SHORT_CONTEXT} tokens.
- **Quality**: mean KL(fp32 ‖ format) of next-token distributions and top-1 agreement with fp32 over ${inputs.quality.positions}
  positions (4 prompts of 128 tokens), both engines against the engine's fp32; llama.cpp with an F32 cache and plain
  attention here, so that its figures are its weights' error alone (its flash attention rounds through F16). The logit check
  is the largest difference of next-token log-probabilities between llama.cpp F32 and the engine's fp32 over those positions.
  The generated model has random weights, whose distributions are flat: its top-1 agreement means little; the trained model's
  rows (when \`media/models\` holds one) are where agreement is meaningful.
- **Batch of two**: \`generateBatch\` decoding an unsteered and a steered reply (an addition at every layer) together, one
  token of each per forward, against \`generate\` of the steered reply alone, interleaved run by run.
- **int4 decode step** splits the median step time into the time its weight bytes take at the measured bandwidth and the
  rest: the fixed cost of one graph run (about 950 kernels after onnxruntime's fusions, 346 inputs fed and 49 outputs
  fetched through the Node binding: the logits and each layer's keys and values of the new token, plus what was asked;
  the cache itself is fed as views of the runtime's memory and appended to in place), which int4 does not shrink and
  which bounds its speedup over fp32. Steering blocks are 2 of those kernels per hook point (5 hook points per layer),
  RoPE one RotaryEmbedding per q and k, and int4 biases ride in MatMulNBits.
- **TTS time / one forward**: \`computeTts\` over a 1000-token trace (a 50-token prompt and 50 steps of 19 tokens, each
  step perturbed by one changed token, the first 8 tokens of the default cue and a 2-token answer) divided by one forward over the
  same 1000 tokens, per run. TTS runs one pass over the intact trace and one over the perturbed trace (forked where they part),
  then packs the four questions of many steps (cue and answer after each prefix; each step's changed span in the other
  context) into a few packs of two forwards, one per trace over a view of its cache's prefixes read, each token seeing only its
  own prefix: about 2,900 packed tokens plus the two passes, so the weights are streamed a few times, not 200 times.
- **What-if readout**: \`CounterfactualBaseline.edit\` on a Markdown trace of a question and arithmetic steps (as many as fit in ${WHAT_IF_TRACE_TOKENS}
  tokens) whose middle step's first number was changed: parsing and tokenizing the edited text, forking the analysed trace's
  KV cache at the first changed token, running the rest of the trace and the cue, the answer teacher-forced and the greedy
  answer. The editor waits for typing to pause first (\`thinkscope.counterfactual.delayMs\`, 300 ms by default), so
  keystroke to readout is that pause plus this figure. Goals: ≤ 1 s for the 0.5B shape, ≤ 100 ms for the trained default.
- **Logit lens time / TTS time**: on the same trace, \`lensProjections\` (one pass over the trace, then every step's
  question packed with the others, the lens read from each layer's \`hook_resid_post\` inside the graph) against
  \`annotateTrace\` with the True Thinking Score, per run.
- **Loads**: the first open builds the graph into an empty cache and creates the session; the second finds the cache.
- **Peak memory**: the measuring process's peak resident set while prefilling and decoding, against the checkpoint's fp32 weight bytes.

## JSON

\`npm run bench -- --json\` prints:

\`\`\`json
${JSON.stringify(summary.json, null, 2)}
\`\`\`
`;
}
