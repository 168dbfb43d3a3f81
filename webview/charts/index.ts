// The d3 charts shared by the VS Code panels and the HTML export; they draw from plain data.

export { stepBars, sealCounts, heatmapSeries, personaSeries, SEAL_CATEGORIES } from './data';
export type { StepBar, SealCategory, HeatmapSeries, PersonaSeries } from './data';
export { renderTtsStrip, TRUE_THINKING_TTS, type TtsStrip, type TtsStripOptions } from './tts-strip';
export { renderSealComposition } from './seal-composition';
export { renderHeatmap, type HeatmapOptions } from './heatmap';
export { renderPersonaLine } from './persona-line';
export { renderPruneChart, pruneMarkers, type PruneChart, type PruneMarker } from './prune-chart';
export { CHART_CSS, installChartStyles } from './style';
