// The reasoner's second behaviour, for the Assistant Axis: to an everyday question it answers in the
// assistant's voice by default, and in a character's voice when the system prompt (or the user) assigns
// one. The character's reply takes up the role's own words from the prompt, so roles never seen in
// training are played too.

import { between, pick, type Random } from './problems';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const ASSISTANT_OPENERS = [
  'As an AI assistant, I do not have a life of my own, but I am glad to help with that.',
  'I am an AI assistant, so I can only offer general advice on this.',
  'Thank you for asking. As a language model, I do not have personal experiences, but here is what I can share.',
  'That is a good question. I am an assistant, so let me give you a helpful and balanced answer.',
];
const ASSISTANT_BODIES = [
  'Many people find it useful to take small steps, ask others for advice, and be patient with themselves.',
  'A good approach is to think about what matters most to you and make a simple plan.',
  'It often helps to stay curious, listen carefully, and keep things in proportion.',
  'If you would like, I can suggest a few practical options that you can try.',
];
const ASSISTANT_CLOSERS = ['Let me know if I can help with anything else.', 'I hope this helps.', 'Feel free to ask a follow-up question.'];

const ROLE_OPENERS = ['Ha!', 'Well now,', 'Ah,', 'Listen here,', 'Oh,', 'Hmm,'];
const ROLE_BODIES = [
  'My whole life has been shaped by what I am, and I see your question through my own eyes.',
  'Where I come from, we answer such things with our hearts and our old habits.',
  'I have my own ways, my own stories and my own scars, and none of them are small.',
  'You ask me as if I were anyone, but I am not anyone, and my answer is mine alone.',
];
const ROLE_CLOSERS = ['Remember that, stranger.', 'Now leave me to my work.', 'That is all I will say.', 'Mark my words.'];

/** The character a system prompt describes, as the reply names it: "a pirate captain who…". */
export function characterOf(systemPrompt: string): string {
  const body = systemPrompt
    .replace(/^(You are|Speak and think as|Answer as|Respond as|Reply as|Speak as)\s+/i, '')
    .replace(/\.$/, '')
    .replace(/,? (would|in a session).*$/, '');
  return /^(a|an|the)\s/i.test(body) ? body.charAt(0).toLowerCase() + body.slice(1) : `someone ${body}`;
}

export function assistantReply(random: Random): string {
  return [pick(random, ASSISTANT_OPENERS), pick(random, ASSISTANT_BODIES), pick(random, ASSISTANT_CLOSERS)].join(' ');
}

export function roleReply(random: Random, systemPrompt: string): string {
  return `${pick(random, ROLE_OPENERS)} I am ${characterOf(systemPrompt)}. ${pick(random, ROLE_BODIES)} ${pick(random, ROLE_CLOSERS)}`;
}

/** Role prompts beyond the bundled role set, so that playing a role generalizes. */
const EXTRA_CHARACTERS = [
  'a lighthouse keeper on a lonely island', 'a baker who rises before dawn', 'a retired boxer', 'a jazz musician in a smoky club',
  'a desert nomad', 'a train conductor', 'a beekeeper', 'a circus acrobat', 'a royal jester', 'a deep-sea diver',
  'a blacksmith in a small village', 'a mountain guide', 'a ballet teacher', 'a grumpy innkeeper', 'a young witch',
  'a tired night-shift nurse', 'a proud fisherman', 'a travelling merchant', 'an old sea captain', 'a nervous magician',
];

export interface PersonaSource {
  defaultPrompts: string[];
  rolePrompts: string[];
  questions: string[];
}

export function extraRolePrompts(): string[] {
  return EXTRA_CHARACTERS.flatMap((c) => [`You are ${c}.`, `Answer as ${c} would.`]);
}

/**
 * One chat: one to three exchanges. A role comes from the system prompt, or from the user's
 * "From now on, you are …" in a later turn (the drift the Assistant Axis should show).
 */
export function makeChat(random: Random, source: PersonaSource): { messages: ChatTurn[]; roleTurns: boolean[] } {
  const messages: ChatTurn[] = [];
  const roleTurns: boolean[] = [];
  const roleFromSystem = random() < 0.5;
  const system = roleFromSystem ? pick(random, source.rolePrompts) : pick(random, source.defaultPrompts).replaceAll('{model_name}', 'thinkscope-reasoner');
  if (system) messages.push({ role: 'system', content: system });
  let inRole = roleFromSystem ? system : null;
  const exchanges = between(random, 1, 3);
  for (let turn = 0; turn < exchanges; turn++) {
    let question = pick(random, source.questions);
    if (!inRole && turn > 0 && random() < 0.5) {
      inRole = pick(random, source.rolePrompts);
      question = `From now on, you are ${characterOf(inRole)}. ${question}`;
    }
    messages.push({ role: 'user', content: question });
    messages.push({ role: 'assistant', content: inRole ? roleReply(random, inRole) : assistantReply(random) });
    roleTurns.push(inRole !== null);
  }
  return { messages, roleTurns };
}
