// Small DOM builders for the panel. Text always goes in through textContent: strings from a trace
// (step text, direction names, model names) are never parsed as markup.
import { revealControls } from '../../extension/common/export/format';

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined>;

function apply(element: Element, attributes: Attributes, children: Child[]): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** An HTML element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attributes, children);
  return element;
}

/** A toolkit element (vscode-button, vscode-dropdown, …) built the same way. */
export function toolkit(tag: `vscode-${string}`, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  apply(element, attributes, children);
  return element;
}

/** Text from a trace, with invisible direction and control characters shown as markers. */
export function traceText(text: string): string {
  return revealControls(text);
}

/** A message shown where a chart or a list would be when there is nothing to show. */
export function emptyState(title: string, ...lines: string[]): HTMLElement {
  return h('div', { class: 'ts-empty', role: 'note' }, h('p', { class: 'ts-empty-title' }, title), ...lines.map((line) => h('p', {}, line)));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'ts-section', 'aria-label': title }, h('h2', {}, title), ...children);
}
