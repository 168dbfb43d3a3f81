// Command identifiers, in one place: package.json contributes the palette ones.

export const Commands = {
  selectModel: 'thinkscope.selectModel',
  analyzeTrace: 'thinkscope.analyzeTrace',
  steerReply: 'thinkscope.steerReply',
  steerStep: 'thinkscope.steerStep',
  buildDirection: 'thinkscope.buildDirection',
  /** Registered by the panels (extension/vscode/panels); accepts { uri, view, step }. */
  openPanel: 'thinkscope.openPanel',
  exportTrace: 'thinkscope.exportTrace',
  clearAnnotations: 'thinkscope.clearAnnotations',
  reanalyzeTrace: 'thinkscope.reanalyzeTrace',
  openTraceSource: 'thinkscope.openTraceSource',
  /** Hover links: the answer's readout without a step, or with its numbers moved ({ uri, step }). */
  removeStep: 'thinkscope.removeStep',
  perturbStep: 'thinkscope.perturbStep',
  pruneTrace: 'thinkscope.pruneTrace',
  /** Accepts a folder's Uri (the Explorer's menu) or { folder, rules }. */
  pruneFolder: 'thinkscope.pruneFolder',
  setEngineToken: 'thinkscope.setEngineToken',
  chooseAnalysisDirections: 'thinkscope.chooseAnalysisDirections',
  /** Accepts { uri, step }: selects the step in its document (the Steps view's click). */
  revealStep: 'thinkscope.revealStep',
  nextStep: 'thinkscope.nextStep',
  showReadableTrace: 'thinkscope.showReadableTrace',
  diffReplies: 'thinkscope.diffReplies',
  revealInJson: 'thinkscope.revealInJson',
  previousStep: 'thinkscope.previousStep',
} as const;
