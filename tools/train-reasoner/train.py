"""Trains the reasoner (a qwen2 model) on the examples build-data.ts wrote, and saves its weights.

    nice -n 10 /usr/bin/python3 tools/train-reasoner/train.py --data tmp/reasoner-data \
        --model media/models/thinkscope-reasoner --minutes 14

The learning rate follows the wall clock (warm-up, then cosine to zero at --minutes), so a run takes
the time it is given on any machine. The model is written as model.safetensors (float32) beside the
config.json that build-data.ts wrote; the trainer's own forward is the Hugging Face Qwen2 forward.
With --gate-layer, the gated examples of build-data.ts --gate-share get an interchange intervention at
that layer's input (set_gates), so that the model reads whether it uses a step from one direction.
"""

import argparse
import json
import math
import os
import random
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_set(data_dir, name):
    """Examples as [tokens, positions, segments, limits, labels, step kinds, gates] (the last two zero in older data)."""
    meta = json.load(open(os.path.join(data_dir, name + '.json')))
    count = meta.get('fields', 5)
    flat = np.fromfile(os.path.join(data_dir, name + '.bin'), dtype=np.int32)
    examples, at = [], 0
    for n in meta['lengths']:
        fields = [flat[at + k * n: at + (k + 1) * n] for k in range(count)]
        fields += [np.zeros(n, dtype=np.int32)] * (7 - count)
        examples.append(fields)
        at += count * n
    return examples


def gate_direction(hidden_size, seed):
    """The unit vector along which gated examples set a step's use (--gate-layer); fixed by its seed."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(hidden_size, generator=g)
    return u / u.norm()


def set_gates(x, groups, step_kinds, gates, u):
    """Interchange along u: a gated step's marked tokens take the mean component along u of the batch's
    ungated marked tokens of the same group in true steps (gate 1, used) or in checks (gate -1, ignored).
    Grouped by token id (--gate-means token), each kind of last token ("." or ".\\n\\n", as the text was
    tokenized) must differ along u between the two kinds of step. The means are not detached: the
    gradient moves the steps' own components along u apart."""
    along = x @ u
    free = gates == 0
    shift = torch.zeros_like(along)
    for group in groups[gates != 0].unique():
        same = groups == group
        used, ignored = same & free & (step_kinds == 1), same & free & (step_kinds == 2)
        if not used.any() or not ignored.any():
            continue
        for gate, source in ((1, used), (-1, ignored)):
            shift = torch.where(same & (gates == gate), along[source].mean() - along, shift)
    return x + shift[..., None] * u


class Qwen2(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, f = cfg['hidden_size'], cfg['intermediate_size']
        self.heads, self.kv_heads = cfg['num_attention_heads'], cfg['num_key_value_heads']
        self.head_dim = d // self.heads
        self.eps = cfg['rms_norm_eps']
        self.embed = torch.nn.Parameter(torch.randn(cfg['vocab_size'], d) * 0.02)
        self.layers = torch.nn.ModuleList()
        for _ in range(cfg['num_hidden_layers']):
            layer = torch.nn.Module()
            layer.ln1 = torch.nn.Parameter(torch.ones(d))
            layer.q = torch.nn.Linear(d, self.heads * self.head_dim)
            layer.k = torch.nn.Linear(d, self.kv_heads * self.head_dim)
            layer.v = torch.nn.Linear(d, self.kv_heads * self.head_dim)
            layer.o = torch.nn.Linear(self.heads * self.head_dim, d, bias=False)
            layer.ln2 = torch.nn.Parameter(torch.ones(d))
            layer.gate = torch.nn.Linear(d, f, bias=False)
            layer.up = torch.nn.Linear(d, f, bias=False)
            layer.down = torch.nn.Linear(f, d, bias=False)
            for lin in (layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down):
                torch.nn.init.normal_(lin.weight, std=0.02)
                if lin.bias is not None:
                    torch.nn.init.zeros_(lin.bias)
            torch.nn.init.normal_(layer.o.weight, std=0.02 / math.sqrt(2 * cfg['num_hidden_layers']))
            torch.nn.init.normal_(layer.down.weight, std=0.02 / math.sqrt(2 * cfg['num_hidden_layers']))
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(d))
        inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        self.register_buffer('inv_freq', inv, persistent=False)

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def forward(self, ids, positions, mask, hidden_states=False, gating=None):
        """ids, positions: [B, T]; mask: [B, T, T] bool (True = may attend). Returns logits (and resid_in of every layer + final).
        gating: (layer, groups [B, T], step kinds [B, T], gates [B, T], unit vector), the interchange of set_gates at that layer's input."""
        B, T = ids.shape
        x = self.embed[ids]
        freqs = positions[..., None].float() * self.inv_freq
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]

        def rope(t):
            half = t.shape[-1] // 2
            rotated = torch.cat([-t[..., half:], t[..., :half]], -1)
            return t * cos + rotated * sin

        bias = torch.zeros(mask.shape, dtype=x.dtype).masked_fill(~mask, float('-inf'))[:, None]
        states = []
        for index, layer in enumerate(self.layers):
            if gating is not None and gating[0] == index:
                x = set_gates(x, *gating[1:])
            states.append(x)
            h = self.rms(x, layer.ln1)
            q = layer.q(h).view(B, T, self.heads, self.head_dim).transpose(1, 2)
            k = layer.k(h).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
            v = layer.v(h).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = rope(q) / math.sqrt(self.head_dim), rope(k)
            group = self.heads // self.kv_heads
            k = k.repeat_interleave(group, 1)
            v = v.repeat_interleave(group, 1)
            att = q @ k.transpose(-1, -2) + bias
            att = torch.softmax(att, -1)
            out = (att @ v).transpose(1, 2).reshape(B, T, -1)
            x = x + layer.o(out)
            h = self.rms(x, layer.ln2)
            x = x + layer.down(F.silu(layer.gate(h)) * layer.up(h))
        x = self.rms(x, self.norm)
        states.append(x)
        logits = x @ self.embed.t()
        return (logits, states) if hidden_states else logits

    def tensors(self):
        out = {'model.embed_tokens.weight': self.embed, 'model.norm.weight': self.norm}
        for i, layer in enumerate(self.layers):
            p = 'model.layers.%d.' % i
            out[p + 'input_layernorm.weight'] = layer.ln1
            out[p + 'post_attention_layernorm.weight'] = layer.ln2
            for name, lin in (('q_proj', layer.q), ('k_proj', layer.k), ('v_proj', layer.v), ('o_proj', layer.o)):
                out[p + 'self_attn.%s.weight' % name] = lin.weight
                if lin.bias is not None:
                    out[p + 'self_attn.%s.bias' % name] = lin.bias
            for name, lin in (('gate_proj', layer.gate), ('up_proj', layer.up), ('down_proj', layer.down)):
                out[p + 'mlp.%s.weight' % name] = lin.weight
        return out

    def load_tensors(self, tensors):
        for name, param in self.tensors().items():
            param.data.copy_(tensors[name])


def causal_batch(sequences):
    """A batch of plain sequences (each token sees the ones before it)."""
    T = max(len(s) for s in sequences)
    ids = torch.zeros(len(sequences), T, dtype=torch.long)
    positions = torch.zeros(len(sequences), T, dtype=torch.long)
    mask = torch.zeros(len(sequences), T, T, dtype=torch.bool)
    for b, s in enumerate(sequences):
        n = len(s)
        ids[b, :n] = torch.tensor(s)
        positions[b, :n] = torch.arange(n)
        mask[b, :n, :n] = torch.tril(torch.ones(n, n, dtype=torch.bool))
        mask[b, n:, 0] = True  # padding rows attend somewhere, so softmax stays finite
    return ids, positions, mask


def tree_batch(examples, exit_weight=3.0):
    """Trunk tokens see the trunk causally; branch k sees the first `limit` trunk tokens and itself causally."""
    T = max(len(e[0]) for e in examples)
    B = len(examples)
    ids = torch.zeros(B, T, dtype=torch.long)
    positions = torch.zeros(B, T, dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    weights = torch.zeros(B, T)
    mask = torch.zeros(B, T, T, dtype=torch.bool)
    step_kinds = torch.zeros(B, T, dtype=torch.long)
    gates = torch.zeros(B, T, dtype=torch.long)
    for b, (tok, pos, seg, lim, lab, kinds, gate) in enumerate(examples):
        n = len(tok)
        step_kinds[b, :n] = torch.from_numpy(kinds.astype(np.int64))
        gates[b, :n] = torch.from_numpy(gate.astype(np.int64))
        ids[b, :n] = torch.from_numpy(tok.astype(np.int64))
        positions[b, :n] = torch.from_numpy(pos.astype(np.int64))
        lab_t = torch.from_numpy(lab.astype(np.int64))
        labels[b, :n] = torch.where(lab_t >= 0, lab_t, torch.full_like(lab_t, -100))
        seg_t = torch.from_numpy(seg.astype(np.int64))
        lim_t = torch.from_numpy(lim.astype(np.int64))
        weights[b, :n] = torch.where(seg_t > 0, exit_weight, 1.0)
        idx = torch.arange(n)
        causal = idx[None, :] <= idx[:, None]
        same = seg_t[None, :] == seg_t[:, None]
        trunk_key = (seg_t[None, :] == 0) & (idx[None, :] < torch.where(seg_t > 0, lim_t, torch.full_like(lim_t, n + 1))[:, None])
        mask[b, :n, :n] = causal & (same | trunk_key)
        mask[b, n:, 0] = True
    return ids, positions, mask, labels, weights, step_kinds, gates


def length_batches(examples, tokens_per_batch):
    """All examples, shuffled, in batches of similar length (less padding), in random order."""
    order = sorted(random.sample(range(len(examples)), len(examples)), key=lambda i: len(examples[i][0]))
    batches, batch, tokens = [], [], 0
    for i in order:
        batch.append(examples[i])
        tokens += len(examples[i][0])
        if tokens >= tokens_per_batch:
            batches.append(batch)
            batch, tokens = [], 0
    random.shuffle(batches)
    return batches


def loss_of(model, batch, gate=None):
    """gate: (layer, unit vector, whether means are per token id) to apply the batch's gates, or None to leave gated examples as they are."""
    ids, positions, mask, labels, weights, step_kinds, gates = batch
    gating = None
    if gate is not None and (gates != 0).any():
        layer, u, per_token = gate
        gating = (layer, ids if per_token else torch.zeros_like(ids), step_kinds, gates, u)
    logits = model(ids, positions, mask, gating=gating)
    losses = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), reduction='none', ignore_index=-100)
    w = weights.view(-1) * (labels.view(-1) >= 0)
    return (losses * w).sum() / w.sum()


def branch_accuracy(model, examples):
    """Of every early exit's answer tokens, the share predicted exactly (argmax), per whole answer."""
    right = total = 0
    with torch.no_grad():
        for start in range(0, len(examples), 16):
            chunk = examples[start:start + 16]
            ids, positions, mask, labels = tree_batch(chunk)[:4]
            pred = model(ids, positions, mask).argmax(-1)
            for b, (tok, pos, seg, lim, lab) in enumerate(c[:5] for c in chunk):
                for s in set(seg.tolist()) - {0}:
                    rows = [i for i in range(len(tok)) if seg[i] == s and lab[i] >= 0]
                    total += 1
                    right += all(pred[b, i].item() == lab[i] for i in rows)
    return right / max(total, 1)


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().float().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header['__metadata__'] = {'format': 'pt'}
    blob = json.dumps(header, separators=(',', ':')).encode()
    blob += b' ' * ((8 - len(blob) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(blob)))
        f.write(blob)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').copy()).view(info['shape'])
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default='tmp/reasoner-data')
    parser.add_argument('--model', default='media/models/thinkscope-reasoner')
    parser.add_argument('--minutes', type=float, default=14.0)
    parser.add_argument('--tokens-per-batch', type=int, default=6000)
    parser.add_argument('--lr', type=float, default=3e-3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--resume', action='store_true', help='start from the model folder\'s model.safetensors')
    parser.add_argument('--exit-weight', type=float, default=3.0, help='loss weight of early-exit answers against the chat tokens')
    parser.add_argument('--gate-layer', type=int, default=None, help='apply gated examples (build-data.ts --gate-share) at this layer\'s input')
    parser.add_argument('--gate-seed', type=int, default=7, help='seed of the gate direction')
    parser.add_argument('--gate-means', choices=['token', 'batch'], default='token', help='interchange means per token id, or over the whole batch')
    args = parser.parse_args()
    # The run's recipe heads its log, so any weights can be traced back to the command that made them.
    print('arguments: ' + json.dumps(vars(args)), flush=True)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    cfg = json.load(open(os.path.join(args.model, 'config.json')))
    model = Qwen2(cfg)
    if args.resume:
        model.load_tensors(read_safetensors(os.path.join(args.model, 'model.safetensors')))
    print('parameters: %d' % sum(p.numel() for p in model.parameters()), flush=True)
    gate = None
    if args.gate_layer is not None:
        gate = (args.gate_layer, gate_direction(cfg['hidden_size'], args.gate_seed), args.gate_means == 'token')
    train = load_set(args.data, 'train')
    if gate is None:
        train = [e for e in train if not e[6].any()]
    valid = load_set(args.data, 'valid')
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': other, 'weight_decay': 0.0}], lr=args.lr, betas=(0.9, 0.98))
    budget = args.minutes * 60
    started = time.time()
    batches = []
    step, seen = 0, 0
    while True:
        elapsed = time.time() - started
        if elapsed >= budget:
            break
        frac = elapsed / budget
        lr = args.lr * min(1.0, frac / 0.03) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g['lr'] = lr
        if not batches:
            batches = length_batches(train, args.tokens_per_batch)
        batch = batches.pop()
        loss = loss_of(model, tree_batch(batch, args.exit_weight), gate)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen += len(batch)
        if step % 25 == 0 or step <= 3:
            print('step %d  %.0fs  lr %.2e  loss %.4f  examples %d' % (step, elapsed, lr, loss.item(), seen), flush=True)
        if step % 200 == 0:
            write_safetensors(os.path.join(args.model, 'model.safetensors'), model.tensors())
    write_safetensors(os.path.join(args.model, 'model.safetensors'), model.tensors())
    with torch.no_grad():
        vloss = loss_of(model, tree_batch(valid[:64])).item()
    print('done: %d steps, %d examples, %.0fs; held-out loss %.4f, held-out early-exit accuracy %.4f' % (step, seen, time.time() - started, vloss, branch_accuracy(model, valid)), flush=True)


if __name__ == '__main__':
    main()
