// The d3 charts shared by the VS Code panels and the HTML export; they draw from plain data.

export { stepBars, sealCounts, projectedDirections, projectionGrid, personaSeries, SEAL_CATEGORIES } from './data';
export type { StepBar, SealCategory, ProjectionGrid, PersonaSeries } from './data';
export { renderTtsStrip, TRUE_THINKING_TTS, type TtsStrip, type TtsStripOptions } from './tts-strip';
export { renderSealComposition } from './seal-composition';
export { renderProjectionHeatmap, type HeatmapOptions } from './heatmap';
export { renderPersonaLine } from './persona-line';
export { CHART_CSS, installChartStyles } from './style';
