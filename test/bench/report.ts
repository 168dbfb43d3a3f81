// Turns the raw measurements into the figures the targets speak of, a terminal table, the JSON object
// of `--json` and BENCHMARKS.md.

import type { ModelSpec } from '../../extension/common/model-spec';
import type { Roofline } from './roofline';
import { summarize, type Sample, type Summary } from './stats';
import type { AccuracyResult, LoadResult, OverheadResult, SpeedResult, TtsResult } from './workers';
import { TTS_STEPS, TTS_TRACE_TOKENS } from './tts-cost';
import { DECODE_TOKENS, PREFILL_TOKENS } from './workers';
import { WHAT_IF_TRACE_TOKENS, type WhatIfResult } from './what-if-cost';

export interface BenchInputs {
  preset: string;
  machine: string;
  threads: number;
  runs: number;
  spec: ModelSpec;
  fp32WeightBytes: number;
  decodeBytes: { fp32: number; int4: number };
  prefillFlops: number;
  roofline: Roofline;
  load: { fp32: LoadResult; int4: LoadResult };
  speed: { fp32: SpeedResult; int4: SpeedResult };
  overhead: OverheadResult;
  accuracy: AccuracyResult;
  tts: TtsResult;
  /** Live counterfactual readout and logit lens, by model (the preset, and the trained default when bundled). */
  whatIf: Record<string, WhatIfResult>;
  seconds: number;
}

interface Row {
  figure: string;
  value: Summary | number | null;
  unit: string;
  target?: { text: string; met: boolean };
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
  const speedup = summarize(inputs.accuracy.speedup);
  const idle = summarize(inputs.overhead.idle);
  const active = summarize(inputs.overhead.active);
  const loadRatio = inputs.load.fp32.secondSeconds / inputs.load.fp32.firstSeconds;
  const memoryRatio = inputs.speed.fp32.peakRssBytes / inputs.fp32WeightBytes;
  const prefillFraction = prefillGflops.median / peak.summary.median;
  const decodeFraction = decodeGBs.median / bandwidth.summary.median;
  const ttsRatio = summarize(inputs.tts.ratio);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  // What an int4 step spends beyond reading its weights at full bandwidth: the per-step cost of running the graph.
  const int4StepMs = 1000 / int4Decode.median;
  const int4ReadMs = (inputs.decodeBytes.int4 / 1e9 / bandwidth.summary.median) * 1000;
  const rows: Row[] = [
    { figure: `MatMul peak (${peak.name})`, value: peak.summary, unit: 'GFLOP/s' },
    { figure: `streaming bandwidth (${bandwidth.name})`, value: bandwidth.summary, unit: 'GB/s' },
    { figure: `prefill ${PREFILL_TOKENS} tokens, fp32`, value: prefill, unit: 'tokens/s' },
    { figure: 'prefill achieved', value: prefillGflops, unit: 'GFLOP/s', target: { text: `≥ 0.6 of peak: ${prefillFraction.toFixed(2)}`, met: prefillFraction >= 0.6 } },
    { figure: `decode ${DECODE_TOKENS} tokens, fp32`, value: decode, unit: 'tokens/s' },
    { figure: 'decode achieved weight reads', value: decodeGBs, unit: 'GB/s', target: { text: `≥ 0.6 of bandwidth: ${decodeFraction.toFixed(2)}`, met: decodeFraction >= 0.6 } },
    { figure: 'decode, steering added at every layer', value: summarize(inputs.speed.fp32.steered), unit: 'tokens/s' },
    { figure: 'decode, capturing one hook at every layer', value: summarize(inputs.speed.fp32.captured), unit: 'tokens/s' },
    { figure: 'steering slots idle vs none (decode time)', value: scale(idle, 100), unit: '% slower', target: { text: `≤ 3%: ${pct(idle.median)}`, met: idle.median <= 0.03 } },
    { figure: 'steering active at every layer vs none', value: scale(active, 100), unit: '% slower', target: { text: `≤ 5%: ${pct(active.median)}`, met: active.median <= 0.05 } },
    { figure: `prefill ${PREFILL_TOKENS} tokens, int4`, value: summarize(inputs.speed.int4.prefill), unit: 'tokens/s' },
    { figure: `decode ${DECODE_TOKENS} tokens, int4`, value: int4Decode, unit: 'tokens/s' },
    { figure: 'int4 decode speedup over fp32 (paired runs)', value: speedup, unit: '×', target: { text: `≥ 4×: ${speedup.median.toFixed(2)}×`, met: speedup.median >= 4 } },
    { figure: 'int4 decode step: weight reads at bandwidth / the rest', value: null, unit: `${int4ReadMs.toFixed(1)} ms / ${(int4StepMs - int4ReadMs).toFixed(1)} ms` },
    { figure: `int4 mean KL(fp32 ‖ int4), ${inputs.accuracy.positions} positions`, value: inputs.accuracy.meanKl, unit: 'nats' },
    { figure: 'int4 top-1 agreement with fp32', value: inputs.accuracy.top1Agreement * 100, unit: '%' },
    { figure: 'first load fp32 (build + session)', value: inputs.load.fp32.firstSeconds, unit: 's' },
    { figure: 'second load fp32 (cache hit)', value: inputs.load.fp32.secondSeconds, unit: 's', target: { text: `≤ 1/5 of first: ${loadRatio.toFixed(3)}`, met: loadRatio <= 0.2 } },
    { figure: 'first / second load int4', value: null, unit: `${inputs.load.int4.firstSeconds.toFixed(1)} s / ${inputs.load.int4.secondSeconds.toFixed(1)} s` },
    { figure: 'peak resident memory fp32', value: inputs.speed.fp32.peakRssBytes / 2 ** 30, unit: 'GiB', target: { text: `≤ 1.5× fp32 weights: ${memoryRatio.toFixed(2)}×`, met: memoryRatio <= 1.5 } },
    { figure: 'peak resident memory int4', value: inputs.speed.int4.peakRssBytes / 2 ** 30, unit: 'GiB' },
    { figure: `TTS time / one forward (${TTS_TRACE_TOKENS} tokens, ${TTS_STEPS} steps)`, value: ttsRatio, unit: '×', target: { text: `≤ 6×: ${ttsRatio.median.toFixed(2)}×`, met: ttsRatio.median <= 6 } },
    { figure: 'TTS time / one forward: seconds', value: null, unit: `${summarize(inputs.tts.ttsSeconds).median.toFixed(1)} s / ${summarize(inputs.tts.forwardSeconds).median.toFixed(2)} s` },
    ...whatIfRows(inputs),
  ];
  const json: Record<string, number | null> = {
    prefill_tokens_per_s: prefill.median,
    prefill_fraction_of_peak: prefillFraction,
    decode_tokens_per_s: decode.median,
    decode_fraction_of_bandwidth: decodeFraction,
    int4_decode_speedup: speedup.median,
    int4_decode_tokens_per_s: int4Decode.median,
    int4_mean_kl: inputs.accuracy.meanKl,
    int4_top1_agreement: inputs.accuracy.top1Agreement,
    steering_idle_overhead: idle.median,
    steering_active_overhead: active.median,
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
  };
  return { rows, json };
}

/** Readout after an edit of the middle step (goal ≤ 1 s for the preset, ≤ 100 ms for the trained default) and the lens against TTS. */
function whatIfRows(inputs: BenchInputs): Row[] {
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
Machine: ${inputs.machine}; onnxruntime threads: ${inputs.threads || 'default (one per physical core)'}.
Each figure is the median of ${inputs.runs} runs (the roofline of at least 5) with min and max; overheads and the int4 speedup are
ratios of runs taken back to back within one run of the benchmark.

| figure | median | min | max | unit | target |
|---|---|---|---|---|---|
${table.join('\n')}

## How the figures are defined

- **Roofline**, measured with onnxruntime itself: the best median of two fp32 MatMuls with the weight as a prepacked
  initializer (GFLOP/s), and the best median of two kernels that read 1 GiB once (ReduceSum, and one row times a matrix).
- **Prefill** of ${PREFILL_TOKENS} tokens from an empty cache, logits of the last row only. Achieved GFLOP/s counts the matrix work
  the model needs: every projection for every token, causal attention (QKᵀ and PV over the visible keys only), one row of
  logits (${(inputs.prefillFlops / 1e9).toFixed(0)} GFLOP).
- **Decode**: ${DECODE_TOKENS} greedy tokens after that prefill, through \`generate\`; the rate counts the ${DECODE_TOKENS - 1} steps after the
  first token. Weight bytes per step: every weight once except the embedding table, of which one row is gathered
  (fp32 ${(inputs.decodeBytes.fp32 / 1e9).toFixed(2)} GB, int4 ${(inputs.decodeBytes.int4 / 1e9).toFixed(2)} GB); KV-cache reads are left out (under 1% here).
- **Steering overheads** compare the same graph built without steering blocks, with idle blocks (zero inputs) and
  with an addition at every layer's \`hook_resid_post\`, in decode runs taken back to back. A block is two kernels,
  FusedGemm(x, W, b, relu) and Gemm(r, U, + x), fed three tensors; a linear column of the plan runs as two relu columns
  (relu(z) − relu(−z) = z) and a position gate as a bias of −∞, so no kernel handles gates or activation slopes.
  Their cost per decode step is 194 more small kernels and 291 more inputs: feeding the inputs through the Node binding
  takes about 0.4 ms, the kernels 2–7 ms (more with one thread) in interleaved A/B runs at a 256-token context, so as a
  fraction it moves with the machine's speed and load from run to run: read it with its min and max.
- **int4**: block-quantized weights (MatMulNBits, 4 bits, blocks of 32, symmetric, accuracy level 4) for every projection and
  the output layer; the embedding stays fp32. Accuracy: mean KL(fp32 ‖ int4) of next-token distributions and top-1 agreement
  over ${inputs.accuracy.positions} prompt positions. The generated models have random weights, so these figures bound the quantization
  error on an untrained network; fp32 stays the default.
- **int4 decode step** splits the median step time into the time its weight bytes take at the measured bandwidth and the
  rest: the fixed cost of one graph run (about 970 kernels after onnxruntime's fusions, 346 inputs fed and 49 outputs
  fetched through the Node binding: the logits and the KV cache, plus what was asked), which int4 does not shrink and
  which bounds its speedup over fp32. Steering blocks are 2 of those kernels per hook point (5 hook points per layer),
  RoPE one RotaryEmbedding per q and k, and int4 biases ride in MatMulNBits.
- **TTS time / one forward**: \`computeTts\` over a 1000-token trace (a 50-token prompt and 50 steps of 19 tokens, each
  step perturbed by one changed token, the first 8 tokens of the default cue and a 2-token answer) divided by one forward over the
  same 1000 tokens, per run. TTS runs one pass over the intact trace and one over the perturbed trace (forked where they part),
  then packs the four questions of many steps (cue and answer after each prefix; each step's changed span in the other
  context) into a few forwards over both caches side by side, each token seeing only its own prefix: about 2,900 packed
  tokens plus the two passes, so the weights are streamed a few times, not 200 times.
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
