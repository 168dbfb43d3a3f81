import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, exportHtml } from '../../extension/common/export/html';
import { TRACE_DATA_ELEMENT_ID } from '../../extension/common/export/page-ids';
import { HOSTILE_STRINGS, hostileTraceFile, sampleTraceFile } from './bundle-fixtures';

const script = 'document.title = "</script><script>alert(1)</script><!--";';
const DATA_OPEN = `<script type="application/json" id="${TRACE_DATA_ELEMENT_ID}">`;

/** The page split at the embedded data: what a browser parses as markup, and the JSON text. */
function split(html: string) {
  const open = html.indexOf(DATA_OPEN);
  const close = html.indexOf('</script>', open);
  return { markup: html.slice(0, open), json: html.slice(open + DATA_OPEN.length, close), after: html.slice(close) };
}

test('the embedded JSON cannot be closed by the data and gives the file back', () => {
  const file = hostileTraceFile();
  const { json } = split(exportHtml(file, { chartScript: script }));
  assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
  assert.deepStrictEqual(JSON.parse(json), file);
});

test('no markup from the data appears: no script, img, svg, link, handler or URL', () => {
  const html = exportHtml(hostileTraceFile(), { chartScript: script });
  const { markup } = split(html);
  assert.equal(`${markup}${DATA_OPEN}`.match(/<script/gi)?.length, 1, 'the data block is the first script element');
  assert.doesNotMatch(markup, /<(img|svg|a|iframe|object|embed|base|link)[\s>]/i);
  assert.equal(markup.match(/<style/gi)?.length, 1);
  for (const tag of markup.match(/<[a-z][^>]*>/gi) ?? []) {
    assert.doesNotMatch(tag, /\son\w+=|javascript:|\ssrc=|\shref=/i, `no handler or URL in a tag: ${tag.slice(0, 80)}`);
  }
  for (const hostile of HOSTILE_STRINGS.slice(0, 5)) assert.ok(html.includes(escapeHtml(hostile)), 'shown as text');
});

test('the inlined script cannot end its element early', () => {
  const { after } = split(exportHtml(sampleTraceFile(), { chartScript: script }));
  const page = after.slice('</script>'.length);
  assert.equal(page.match(/<\/script>/g)?.length, 1, 'only the closing tag of the page script');
  assert.match(page, /document\.title = "<\\\/script><script>alert\(1\)<\\\/script><\\!--";/);
});

test('a CSP forbids every request and allows only the nonce’d script and style', () => {
  const html = exportHtml(sampleTraceFile(), { chartScript: script, nonce: 'n0nce' });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  assert.ok(html.indexOf(csp) < html.indexOf('<style'), 'the policy precedes all content');
  for (const directive of ["default-src 'none'", "script-src 'nonce-n0nce'", "style-src 'nonce-n0nce'", "connect-src 'none'", "form-action 'none'", "base-uri 'none'", 'img-src data:']) {
    assert.ok(csp.split('; ').includes(directive), directive);
  }
  assert.match(html, /<style nonce="n0nce">/);
  assert.match(html, /<script nonce="n0nce">/);
  const nonce = (page: string) => /script-src 'nonce-([^']+)'/.exec(page)?.[1];
  assert.notEqual(nonce(exportHtml(sampleTraceFile(), { chartScript: '' })), nonce(exportHtml(sampleTraceFile(), { chartScript: '' })));
});

test('every step is a span with its class and badge; bidi controls become visible markers', () => {
  const file = hostileTraceFile();
  const { markup } = split(exportHtml(file, { chartScript: script }));
  assert.equal(markup.match(/<span class="ts-step /g)?.length, file.steps.length + 2, 'trace steps plus the two replies');
  assert.match(markup, /<span class="ts-step ts-reflection" id="step-2" data-step="2" data-badge="#2 · 0\.12" tabindex="0">Wait,/);
  assert.doesNotMatch(markup, /[\u202A-\u202E\u2066-\u2069]/);
  assert.match(markup, /user<span class="ts-control" title="U\+202E">U\+202E<\/span>gnp\.exe/);
});

test('a file that does not fit the schema is refused, not rendered', () => {
  const file = sampleTraceFile();
  (file.steps[1] as { sealClass: string }).sealClass = 'x" onmouseover="alert(1)';
  assert.throws(() => exportHtml(file, { chartScript: script }), /steps\[1\]\.sealClass: must be one of/);
});
