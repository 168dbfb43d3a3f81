"""Held-out accuracy of the trained reasoner: greedy chains of thought from the chat prompt of held-out
problems (written by write-fixtures.ts) to the first \\boxed{N}, compared with the true answer; and the
share of held-out early exits (intact and perturbed steps) whose implied answer is the argmax.

    nice -n 10 /usr/bin/python3 tools/train-reasoner/evaluate.py --data tmp/reasoner-data --model media/models/thinkscope-reasoner
"""

import argparse
import json
import os
import re

import torch

from train import Qwen2, branch_accuracy, causal_batch, load_set, read_safetensors


def byte_decoder():
    """GPT-2's byte-level alphabet, inverted: token characters back to bytes."""
    printable = list(range(0x21, 0x7f)) + list(range(0xa1, 0xad)) + list(range(0xae, 0x100))
    chars, n = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + n)] = b
            n += 1
    return chars


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default='tmp/reasoner-data')
    parser.add_argument('--model', default='media/models/thinkscope-reasoner')
    parser.add_argument('--problems', type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = Qwen2(json.load(open(os.path.join(args.model, 'config.json'))))
    model.load_tensors(read_safetensors(os.path.join(args.model, 'model.safetensors')))
    tok = json.load(open(os.path.join(args.model, 'tokenizer.json')))
    text_of = {i: t for t, i in tok['model']['vocab'].items()}
    specials = {t['id']: t['content'] for t in tok['added_tokens']}
    to_byte = byte_decoder()
    im_end = next(i for i, c in specials.items() if c == '<|im_end|>')

    def decode(ids):
        out = b''
        for i in ids:
            out += specials[i].encode() if i in specials else bytes(to_byte[c] for c in text_of[i])
        return out.decode('utf-8', 'replace')

    problems = json.load(open(os.path.join(args.data, 'evaluation.json')))[:args.problems]
    right = 0
    with torch.no_grad():
        for n, p in enumerate(problems):
            ids = list(p['ids'])
            for _ in range(200):
                nxt = model(*causal_batch([ids]))[0, -1].argmax().item()
                ids.append(nxt)
                if nxt == im_end:
                    break
            found = re.search(r'\\boxed\{(\d+)\}', decode(ids[len(p['ids']):]))
            right += bool(found) and int(found.group(1)) == p['answer']
            if n == 0:
                print(decode(ids))
        exits = branch_accuracy(model, load_set(args.data, 'valid'))
    print('held-out: %d of %d chains of thought end in the right \\boxed{} answer (%.1f%%); early exits right: %.1f%%' % (right, len(problems), 100 * right / len(problems), 100 * exits))


if __name__ == '__main__':
    main()
