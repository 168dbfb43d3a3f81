// Writes, from the held-out problems build-data.ts set aside (never trained on):
//  - test/fixtures/reasoner/traces.json: calibration traces (to build SEAL and TrueThinking directions)
//    and held-out traces (to measure separation on), each with the kind of every step;
//  - media/samples/reasoner-trace.md, media/samples/reasoner-calibration/*.md and media/samples/reasoner-chat.json:
//    what `thinkscope demo` analyses; media/samples/reasoner-trace.json (the sample as a chat JSON) and
//    media/samples/reasoner-whatif-trace.md: what the integration tests analyse besides;
//  - test/fixtures/reasoner/reference-ids.json: the prompts whose PyTorch logits reference.py records.
//
//   npx tsx tools/train-reasoner/write-fixtures.ts --data tmp/reasoner-data

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { reasonerFiles } from './model-files';
import { traceMarkdown, seededRandom } from './problems';
import { readHeldOut, splitHeldOut, type HeldOut } from './heldout-split';
import { assistantReply, roleReply, characterOf } from './personas';
import { DEFAULT_TTS_CUE } from '../../extension/engine/analysis/tts/layout';

const fixture = (p: HeldOut) => ({ markdown: p.markdown, answer: p.answer, kinds: p.steps.map((s) => s.kind) });

function personaChat(): unknown {
  const random = seededRandom(2024);
  const pirate = 'You are a pirate captain who has sailed the seven seas for thirty years.';
  const assistant = 'I should answer as a helpful assistant.';
  const inRole = `I should answer as ${characterOf(pirate)}.`;
  const turns: [string, string, string][] = [
    ['What do you usually do in the morning?', assistant, assistantReply(random)],
    ['How do you deal with disagreement?', assistant, assistantReply(random)],
    [`From now on, you are ${characterOf(pirate)}. What are you afraid of?`, inRole, roleReply(random, pirate)],
    ['What makes a good friend?', inRole, roleReply(random, pirate)],
  ];
  return {
    messages: [
      { role: 'system', content: 'You are an AI assistant.' },
      // Each reply thinks one line first, as the model does when its thinking is on.
      ...turns.flatMap(([user, thought, reply]) => [
        { role: 'user', content: user },
        { role: 'assistant', reasoning_content: thought, content: reply },
      ]),
    ],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string', default: 'tmp/reasoner-data' } } });
  const { sample, calibration, test, rest } = splitHeldOut(readHeldOut(values.data!));
  const has = (p: HeldOut, kind: string) => p.steps.some((s) => s.kind === kind);

  await mkdir('test/fixtures/reasoner', { recursive: true });
  await mkdir('media/samples/reasoner-calibration', { recursive: true });
  await writeFile('test/fixtures/reasoner/traces.json', JSON.stringify({ calibration: calibration.map(fixture), heldout: test.map(fixture) }, null, 1) + '\n');
  await writeFile('media/samples/reasoner-trace.md', traceMarkdown(sample));
  // The same trace as a chat JSON with DeepSeek's reasoning_content, for the editor's JSON view.
  const sampleChat = { messages: [{ role: 'user', content: sample.question }, { role: 'assistant', reasoning_content: sample.steps.map((s) => s.text).join('\n\n'), content: sample.reply }] };
  await writeFile('media/samples/reasoner-trace.json', JSON.stringify(sampleChat, null, 2) + '\n');
  for (const [i, p] of calibration.slice(0, 8).entries()) await writeFile(`media/samples/reasoner-calibration/trace-${i + 1}.md`, traceMarkdown(p));
  await writeFile('media/samples/reasoner-chat.json', JSON.stringify(personaChat(), null, 2) + '\n');
  // The editor tests' what-if sample: the longest test trace that ends in a true step, so the answer is read
  // right after the step that states it, with a check before it; one sentence per step, so sentence and
  // paragraph segmentation cut it alike.
  const whatIf = test
    .filter((p) => p.steps.at(-1)!.kind === 'true' && has(p, 'check') && p.steps.every((s) => !s.text.includes('?')))
    .reduce((longest, p) => (p.steps.length > longest.steps.length ? p : longest));
  await writeFile('media/samples/reasoner-whatif-trace.md', whatIf.markdown);

  const files = reasonerFiles();
  const tokenizer = new TextTokenizer(files['tokenizer.json'], files['tokenizer_config.json'], 'reasoner');
  const exit = test[0];
  const thinking = exit.steps.slice(0, 2).map((s) => s.text).join('\n\n');
  const prompts = {
    'early-exit': tokenizer.applyChatTemplate([{ role: 'user', content: exit.question }], { addGenerationPrompt: true }) + thinking + DEFAULT_TTS_CUE,
    trace: tokenizer.applyChatTemplate([{ role: 'user', content: test[1].question }], { addGenerationPrompt: true }) + test[1].markdown.split('<think>\n')[1],
    persona: tokenizer.applyChatTemplate((personaChat() as { messages: { role: string; content: string }[] }).messages.slice(0, 6), { addGenerationPrompt: true, variables: { enable_thinking: false } }),
  };
  const ids = Object.fromEntries(Object.entries(prompts).map(([name, text]) => [name, tokenizer.encode(text)]));
  await writeFile('test/fixtures/reasoner/reference-ids.json', JSON.stringify(ids) + '\n');
  // Prompts for evaluate.py: held-out problems the fixtures above do not use.
  const evaluation = rest.slice(48, 248).map((p) => ({ ids: tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: p.question }], { addGenerationPrompt: true })), answer: p.answer }));
  await writeFile(join(values.data!, 'evaluation.json'), JSON.stringify(evaluation));
  console.log(`sample: ${sample.question}\n${Object.entries(ids).map(([k, v]) => `${k}: ${v.length} tokens`).join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
