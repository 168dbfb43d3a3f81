// Bundles the extension, the CLI (which is also the engine process), the webview and the benchmark.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };
const nodeTarget = { ...common, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode', 'onnxruntime-node'] };

const builds = [
  { ...nodeTarget, entryPoints: ['extension/vscode/extension.ts'], outfile: 'dist/extension.js' },
  { ...nodeTarget, entryPoints: ['extension/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // Chat templates render on their own thread, with limits (extension/engine/checkpoint/template-render.ts).
  { ...nodeTarget, entryPoints: ['extension/engine/checkpoint/template-worker.ts'], outfile: 'dist/template-worker.js' },
  // Graphs are built on their own thread, which returns the build's memory when it ends (extension/engine/runtime/graph-cache.ts).
  { ...nodeTarget, entryPoints: ['extension/engine/runtime/graph-build-worker.ts'], outfile: 'dist/graph-build-worker.js' },
  { ...nodeTarget, entryPoints: ['test/bench/bench.ts'], outfile: 'dist/bench.js' },
  { ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
  { ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['webview/prune-report.ts'], outfile: 'dist/prune-report.js' },
  // Inlined into every exported HTML trace: always minified, no source map (it would be a request).
  { ...common, sourcemap: false, minify: true, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['webview/charts/export-page.ts'], outfile: 'dist/trace-export.js' },
];

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
