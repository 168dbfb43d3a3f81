// tts_cost_ratio: the time of a True Thinking Score annotation of a 1000-token, 50-step trace divided
// by one forward pass over the same trace. The TTS analysis exposes no timing entry point yet
// (extension/engine/analysis/tts/), so the figure is reported as not measured (null) until it does;
// wire it in here and nowhere else.

export async function measureTtsCostRatio(): Promise<number | null> {
  return null;
}
