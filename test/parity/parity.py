# PyTorch's side of the parity suite (Debian's python3-torch 1.13, run by /usr/bin/python3).
# Reads the batched cases (JSON: id, seed, inputs as base64 bytes, Python code) from argv[1] and
# writes one result per case to argv[2], encoded as test/parity/protocol.ts describes.
import base64
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

DT = {
    'float32': torch.float32,
    'float64': torch.float64,
    'int64': torch.int64,
    'int32': torch.int32,
    'bool': torch.bool,
}
NAMES = {v: k for k, v in DT.items()}
NAMES.update({torch.float16: 'float16', torch.uint8: 'uint8', torch.int8: 'int8', torch.int16: 'int16'})


def grad_weights(seed, n):
    s = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(((s >> 16) % 15 - 7) / 4)
    return out


def grad_seed(seed):
    return (seed ^ 0x9E3779B9) & 0xFFFFFFFF


def build(w):
    raw = base64.b64decode(w['b'])
    dtype = DT[w['d']]
    if len(raw) == 0:
        leaf = torch.empty(w['base'], dtype=dtype)
    else:
        leaf = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(w['base']).clone()
    if w['g']:
        leaf.requires_grad_(True)
    view = leaf
    if w['v'] == 'T':
        view = leaf.transpose(-1, -2)
    elif w['v'] == 'step':
        view = leaf[..., ::2]
    elif w['v'] == 'expand':
        view = leaf.expand(w['s'])
    return leaf, view


def enc_number(v):
    v = float(v)
    if math.isnan(v):
        return 'nan'
    if math.isinf(v):
        return 'inf' if v > 0 else '-inf'
    if v == 0 and math.copysign(1, v) < 0:
        return '-0'
    return v


def enc(v):
    if v is None:
        return {'k': 'none'}
    if isinstance(v, torch.Tensor):
        t = v.detach().contiguous()
        return {
            'k': 't',
            'd': NAMES.get(t.dtype, str(t.dtype)),
            's': list(t.shape),
            'b': base64.b64encode(t.numpy().tobytes()).decode(),
        }
    if isinstance(v, (list, tuple)):
        return {'k': 'l', 'v': [enc(x) for x in v]}
    if isinstance(v, bool):
        return {'k': 'b', 'v': v}
    if isinstance(v, (int, float)):
        return {'k': 'n', 'v': enc_number(v)}
    if isinstance(v, str):
        return {'k': 's', 'v': v}
    return {'k': 's', 'v': 'unencodable ' + type(v).__name__}


def first_tensor(v):
    if isinstance(v, torch.Tensor):
        return v
    if isinstance(v, (list, tuple)) and len(v) and isinstance(v[0], torch.Tensor):
        return v[0]
    return None


def load(m, values):
    with torch.no_grad():
        for p, v in zip(m.parameters(), values):
            p.copy_(v)
    return m


def message(e):
    return (type(e).__name__ + ': ' + str(e)).split('\n')[0][:300]


def run(case):
    ns = {'torch': torch, 'F': F, 'nn': nn, 'math': math, 'load': load}
    try:
        built = [build(w) for w in case['inputs']]
        for k, (_, view) in enumerate(built):
            ns['abcdefghijklmnop'[k]] = view
        code = case['py']
        try:
            compiled = compile(code, case['id'], 'eval')
            out = eval(compiled, ns)
        except SyntaxError:
            exec(compile(code, case['id'], 'exec'), ns)
            out = ns.get('out')
    except Exception as e:  # noqa: BLE001 - every error is a result
        return {'out': {'k': 'err', 'm': message(e)}}
    r = {'out': enc(out)}
    if case['grad']:
        try:
            first = first_tensor(out)
            leaves = [leaf for (leaf, _), w in zip(built, case['inputs']) if w['g']] + list(ns.get('extra') or [])
            if first is not None and first.requires_grad and first.is_floating_point():
                weights = torch.tensor(grad_weights(grad_seed(case['seed']), first.numel()), dtype=torch.float64)
                weights = weights.reshape(first.shape).to(first.dtype)
                (first * weights).sum().backward()
                r['grads'] = [None if leaf.grad is None else enc(leaf.grad) for leaf in leaves]
            else:
                r['grads'] = {'k': 'none'}
        except Exception as e:  # noqa: BLE001
            r['grads'] = {'k': 'err', 'm': message(e)}
    return r


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    results = [run(c) for c in cases]
    with open(sys.argv[2], 'w') as f:
        json.dump(results, f)


main()
