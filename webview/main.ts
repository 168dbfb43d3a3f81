// The ThinkScope panel's webview: Steps, Persona and Steering views drawn from the host's snapshots
// (extension/common/webview-protocol.ts). The last snapshot is kept with setState, so a panel
// restored after a reload paints at once, before the host has answered `ready`.
import {
  HostMessageType,
  PANEL_VIEWS,
  WebviewMessageType,
  dispatchMessage,
  isReplyBusy,
  message,
  steeringChoices,
  type HostMessages,
  type MessageHandlers,
  type PanelState,
  type PanelView,
  type RenderReport,
  type ReplyState,
  type SteeringState,
  type WebviewMessages,
} from '../extension/common/webview-protocol';
import { installChartStyles } from './charts';
import { h, toolkit } from './panel/dom';
import { renderPersonaView } from './panel/persona-view';
import { renderReply, type ReplyView } from './panel/reply-view';
import { renderSteeringControls } from './panel/steering-view';
import { renderStepsView, type StepsView } from './panel/steps-view';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What setState keeps: the latest of each host message. */
interface SavedState {
  state: PanelState | null;
  selection: number[];
  reply: ReplyState | null;
}

const TOOLKIT_TAGS = ['vscode-panels', 'vscode-panel-tab', 'vscode-panel-view', 'vscode-button', 'vscode-dropdown', 'vscode-option', 'vscode-checkbox', 'vscode-text-area', 'vscode-text-field', 'vscode-progress-ring'];
const TOOLKIT_WAIT_MS = 3000;
const STEERING_POST_MS = 150;
/** A reply box is never shorter than about five lines, and ends this far above the view's bottom. */
const MIN_REPLY_HEIGHT = 96;
const REPLY_BOTTOM_MARGIN = 16;
const VIEW_TITLES: Record<PanelView, string> = { steps: 'Steps', persona: 'Persona', steering: 'Steering' };

const api = acquireVsCodeApi();
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';
const saved: SavedState = { state: null, selection: [], reply: null, ...(api.getState() as Partial<SavedState> | undefined) };

/** What the Steps and Persona views draw from: they are redrawn only when it changes. */
function traceKey(state: PanelState): string {
  return JSON.stringify([state.trace, state.heatmapDirection]);
}

/** What the steering controls draw from. */
function steeringKey(state: PanelState): string {
  return JSON.stringify([state.directions, state.steering, state.model === null]);
}

function post<K extends keyof WebviewMessages>(type: K, body: WebviewMessages[K]): void {
  api.postMessage(message(WebviewMessageType, type, body));
}

/** Elements are upgraded as soon as they are created once the toolkit has defined them. */
function toolkitDefined(): Promise<unknown> {
  const defined = Promise.all(TOOLKIT_TAGS.map((tag) => customElements.whenDefined(tag)));
  return Promise.race([defined, new Promise((resolve) => setTimeout(resolve, TOOLKIT_WAIT_MS))]);
}

class Panel {
  private readonly status = h('p', { class: 'ts-status-line', role: 'status' });
  private readonly tabs = toolkit('vscode-panels', { 'aria-label': 'ThinkScope views' });
  private readonly views: Record<PanelView, HTMLElement> = {
    steps: h('div', { class: 'ts-view', 'data-view': 'steps' }),
    persona: h('div', { class: 'ts-view', 'data-view': 'persona' }),
    steering: h('div', { class: 'ts-view', 'data-view': 'steering' }),
  };
  private readonly controls = h('div', { class: 'ts-steering-controls' });
  private readonly replies = h('div', { class: 'ts-replies' });
  private steps: StepsView | null = null;
  private reply: ReplyView | null = null;
  private drawn = { trace: '', steering: '', width: new Map<HTMLElement, number>() };
  private steeringTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingSteering: SteeringState | null = null;

  constructor(root: HTMLElement) {
    for (const view of PANEL_VIEWS) {
      this.tabs.append(toolkit('vscode-panel-tab', { id: `tab-${view}` }, VIEW_TITLES[view]));
    }
    for (const view of PANEL_VIEWS) this.tabs.append(toolkit('vscode-panel-view', { id: `view-${view}` }, this.views[view]));
    this.views.steering.append(this.controls, this.replies);
    this.tabs.addEventListener('change', (event) => {
      // Dropdowns and checkboxes inside the views send their own change events up to here.
      if (event.target !== this.tabs) return;
      const view = String((this.tabs as HTMLElement & { activeid?: string }).activeid ?? '').replace(/^tab-/, '') as PanelView;
      if (!PANEL_VIEWS.includes(view) || !saved.state || saved.state.view === view) return;
      saved.state = { ...saved.state, view };
      api.setState(saved);
      post('selectView', { view });
    });
    root.replaceChildren(this.status, this.tabs);
    const resized = new ResizeObserver((entries) => {
      for (const entry of entries) this.resized(entry.target as HTMLElement, entry.contentRect.width);
    });
    resized.observe(this.views.steps);
    resized.observe(this.views.persona);
    // The controls change height (a direction loaded, the view shown): the reply boxes follow.
    new ResizeObserver(() => this.fitReplies()).observe(this.controls);
    window.addEventListener('resize', () => this.fitReplies());
  }

  /**
   * The reply boxes end at the bottom of the view, so both replies are in view beside the controls
   * without scrolling (their own text scrolls inside them).
   */
  private fitReplies(): void {
    const boxes = [...this.replies.querySelectorAll<HTMLElement>('.ts-reply-text')];
    const tops = boxes.map((box) => box.getBoundingClientRect().top + window.scrollY).filter((top) => top > 0);
    if (tops.length === 0) return; // the Steering view is hidden
    const room = window.innerHeight - Math.max(...tops) - REPLY_BOTTOM_MARGIN;
    for (const box of boxes) box.style.maxHeight = `${Math.max(MIN_REPLY_HEIGHT, room)}px`;
  }

  readonly handlers: MessageHandlers<HostMessages> = {
    state: ({ state }) => {
      saved.state = state;
      this.drawState(state);
      this.save();
    },
    selection: ({ steps }) => {
      saved.selection = steps;
      this.steps?.highlight(steps);
      this.save();
    },
    reply: ({ reply }) => {
      saved.reply = reply;
      this.drawReply(reply);
      this.save();
    },
  };

  /** Draws whatever the saved state holds (a restored panel) before the host answers. */
  restore(): void {
    if (saved.state) this.drawState(saved.state);
    this.drawReply(saved.reply);
  }

  private save(): void {
    api.setState(saved);
    this.report();
  }

  private drawState(state: PanelState): void {
    const activeid = `tab-${state.view}`;
    const tabs = this.tabs as HTMLElement & { activeid?: string };
    if (tabs.activeid !== activeid) tabs.activeid = activeid;
    const model = state.model ? `Model ${state.model.name} (${state.model.numLayers} layers, ${state.model.precision})` : 'No model loaded';
    this.status.textContent = `${model} · engine ${state.engine}`;

    const trace = traceKey(state);
    if (trace !== this.drawn.trace) {
      this.drawn.trace = trace;
      this.drawTrace(state);
    }
    const steering = steeringKey(state);
    if (steering !== this.drawn.steering) {
      this.drawn.steering = steering;
      this.drawControls(state);
    }
  }

  private drawTrace(state: PanelState): void {
    this.steps = renderStepsView(this.views.steps, state.trace, state.heatmapDirection, saved.selection, {
      revealStep: (index) => post('revealStep', { index }),
      prune: () => post('prune', {}),
      selectDirection: (name) => {
        if (!saved.state) return;
        saved.state = { ...saved.state, heatmapDirection: name };
        post('selectDirection', { name });
        this.drawn.trace = traceKey(saved.state);
        this.drawTrace(saved.state);
        this.save();
      },
    });
    renderPersonaView(this.views.persona, state.trace);
  }

  private drawControls(state: PanelState): void {
    renderSteeringControls(this.controls, state, isReplyBusy(saved.reply), {
      changed: (steering) => this.steeringChanged(steering),
      generate: (steering) => {
        this.flushSteering();
        post('generate', { steering: steeringChoices(steering), prompt: steering.prompt, compare: steering.compare, maxTokens: steering.maxTokens });
      },
      cancel: () => post('cancel', {}),
      loadDirection: () => post('loadDirection', {}),
      removeDirection: (path) => post('removeDirection', { path }),
      applyPreset: (preset) => {
        this.flushSteering();
        post('applyPreset', { preset });
      },
    });
  }

  /** The user's own edits are kept locally and sent shortly after; the host does not echo them. */
  private steeringChanged(steering: SteeringState): void {
    if (!saved.state) return;
    saved.state = { ...saved.state, steering: structuredClone(steering) };
    this.drawn.steering = steeringKey(saved.state);
    api.setState(saved);
    this.pendingSteering = saved.state.steering;
    this.steeringTimer ??= setTimeout(() => this.flushSteering(), STEERING_POST_MS);
  }

  private flushSteering(): void {
    clearTimeout(this.steeringTimer);
    this.steeringTimer = undefined;
    if (this.pendingSteering) post('steeringChanged', { steering: this.pendingSteering });
    this.pendingSteering = null;
  }

  private drawReply(reply: ReplyState | null): void {
    const wasRunning = this.controls.querySelector('[data-action="cancel"]:not([disabled])') !== null;
    if (!(reply && this.reply?.update(reply))) {
      this.reply = renderReply(this.replies, reply);
      // A reply just asked for: into view, scrolling no further than needed (the controls stay when both fit).
      if (reply?.status === 'running' && !wasRunning) this.replies.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }
    // Generate and Cancel follow whether a reply is being generated.
    if (wasRunning !== isReplyBusy(reply) && saved.state) this.drawControls(saved.state);
    this.fitReplies();
  }

  private resized(view: HTMLElement, width: number): void {
    const before = this.drawn.width.get(view) ?? 0;
    this.drawn.width.set(view, width);
    if (width < 1 || Math.abs(width - before) < 2 || !saved.state) return;
    this.drawTrace(saved.state);
    this.report();
  }

  private report(): void {
    const state = saved.state;
    const report: RenderReport = {
      view: state?.view ?? 'steps',
      traceName: state?.trace?.file.source.name ?? null,
      bars: this.views.steps.querySelectorAll('rect.ts-bar').length,
      selectedBars: [...this.views.steps.querySelectorAll('rect.ts-bar.ts-selected')].map((bar) => Number(bar.getAttribute('data-step'))),
      heatmapDirection: this.steps?.heatmapDirection ?? null,
      heatmapCells: this.views.steps.querySelectorAll('rect.ts-cell').length,
      personaTurns: this.views.persona.querySelectorAll('circle.ts-point').length,
      sliders: this.controls.querySelectorAll('input.ts-range').length,
      replyStatus: saved.reply?.status ?? null,
      alignedRows: this.reply?.alignedRows ?? 0,
      whatIf: state?.trace?.whatIf ?? null,
    };
    post('rendered', { report });
  }
}

async function start(): Promise<void> {
  installChartStyles(document, nonce);
  await toolkitDefined();
  const root = document.getElementById('app');
  if (!root) return;
  const panel = new Panel(root);
  panel.restore();
  window.addEventListener('message', (event) => dispatchMessage(HostMessageType, panel.handlers, event.data));
  post('ready', {});
}

void start();
