"""Records the trained model's PyTorch outputs for the prompts write-fixtures.ts tokenized, so that a
test can hold the engine to them: the logits of the last 8 positions and the residual stream at the
last position going into every layer, plus the final normalized state.

    nice -n 10 /usr/bin/python3 tools/train-reasoner/reference.py --model media/models/thinkscope-reasoner
"""

import argparse
import json
import os

import torch

from train import Qwen2, causal_batch, read_safetensors, write_safetensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', default='media/models/thinkscope-reasoner')
    parser.add_argument('--ids', default='test/fixtures/reasoner/reference-ids.json')
    parser.add_argument('--out', default='test/fixtures/reasoner/reference.safetensors')
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = Qwen2(json.load(open(os.path.join(args.model, 'config.json'))))
    model.load_tensors(read_safetensors(os.path.join(args.model, 'model.safetensors')))
    out = {}
    with torch.no_grad():
        for name, ids in json.load(open(args.ids)).items():
            batch = causal_batch([ids])
            logits, states = model(*batch, hidden_states=True)
            out[name + '.logits'] = logits[0, -8:]
            out[name + '.hidden'] = torch.stack([s[0, -1] for s in states])
    write_safetensors(args.out, out)


if __name__ == '__main__':
    main()
