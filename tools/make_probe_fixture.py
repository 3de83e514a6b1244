#!/usr/bin/env python3
"""Writes Tests/HarnessModelTests/Fixtures/probe.json: tiny weights, inputs, outputs and
gradients computed by PyTorch (float64, autograd) for three components of the harness:

  * an LSTM with projection, cell clip and projection clip (LSTMP, as bilm-tf), unrolled
    like ../shared/bench/torch_bilm.py's LSTMPLayer;
  * the char-CNN token encoder with highway layers and projection (torch_bilm.py's
    CharEncoder), on character ids built with bilm-tf's numbering;
  * the full softmax with cross-entropy;
  * nn.GRU (gate order r, z, n; weight_ih, weight_hh, bias_ih, bias_hh as the harness lays them out);
  * nn.AdaptiveLogSoftmaxWithLoss (head.weight, tail.i.0.weight, tail.i.1.weight, as the harness names them).

Each probe's loss is sum(output * R) for a fixed random R (or the mean NLL for the
softmax and the adaptive softmax), so every gradient is checked, not just the forward values.
Weights use the harness's layouts (documented per field below); gate order i, f, g, o.

Regenerate (only needed when a probe changes):
    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch numpy
    .venv-torch/bin/python tools/make_probe_fixture.py [--only PROBE ...]
`--only` rewrites just the named probes and keeps the others' committed values as they
are (regenerated on another CPU or torch version, they can differ in the last bit).
The Swift tests read the committed JSON and do not need PyTorch.
"""
import argparse
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(20261125)
torch.set_default_dtype(torch.float64)
OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/HarnessModelTests/Fixtures/probe.json"

# bilm-tf character ids
BOS_C, EOS_C, BOW, EOW, PAD, N_CHARS = 256, 257, 258, 259, 260, 261


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def u(*shape, scale=0.5):
    return (torch.rand(*shape) * 2 - 1) * scale


def lstmp_probe():
    T, B, D, H, P, cell_clip, proj_clip = 5, 3, 4, 6, 3, 0.25, 0.15
    x = u(T, B, D, scale=1.0).requires_grad_()
    w_x, w_h, b, w_p = u(4 * H, D), u(4 * H, P), u(4 * H, scale=0.3), u(P, H, scale=0.8)
    for t in (w_x, w_h, b, w_p):
        t.requires_grad_()
    h, c = torch.zeros(B, P), torch.zeros(B, H)
    outs, clipped_cells = [], 0
    for t in range(T):
        i, f, g, o = (x[t] @ w_x.t() + b + h @ w_h.t()).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        clipped_cells += int((c.abs() > cell_clip).sum())
        c = c.clamp(-cell_clip, cell_clip)
        h = (torch.sigmoid(o) * torch.tanh(c)) @ w_p.t()
        h = h.clamp(-proj_clip, proj_clip)
        outs.append(h)
    y = torch.stack(outs)  # (T, B, P)
    r = u(T, B, P, scale=1.0)
    (y * r).sum().backward()
    return {
        "steps": T, "batch": B, "input_size": D, "hidden": H, "projection": P,
        "cell_clip": cell_clip, "projection_clip": proj_clip,
        "input": flat(x), "input_weight": flat(w_x), "recurrent_weight": flat(w_h), "bias": flat(b),
        "projection_weight": flat(w_p), "upstream": flat(r), "output": flat(y),
        "grad_input": flat(x.grad), "grad_input_weight": flat(w_x.grad),
        "grad_recurrent_weight": flat(w_h.grad), "grad_bias": flat(b.grad),
        "grad_projection_weight": flat(w_p.grad),
        "note": f"{clipped_cells} of {T * B * H} cells clipped; projection clip active in "
                f"{int((y.abs() >= proj_clip).sum())} outputs",
    }


def char_ids(word, k):
    if word == "<bos>":
        ids = [BOW, BOS_C, EOW]
    elif word == "<eos>":
        ids = [BOW, EOS_C, EOW]
    else:
        ids = [BOW] + list(word.encode("utf-8")[: k - 2]) + [EOW]
    return ids + [PAD] * (k - len(ids))


def charcnn_probe():
    words = ["<eos>", "<bos>", "the", "cat", "sat", "naïve", "extraordinarily"]
    K, C, filters, n_highway, out_dim = 8, 3, [(1, 2), (2, 3), (3, 4)], 2, 5
    table = torch.tensor([char_ids(w, K) for w in words])
    token_ids = torch.tensor([2, 5, 6, 0, 3, 1, 2])
    emb = u(N_CHARS, C, scale=1.0).requires_grad_()
    convs = [(u(n, C, w).requires_grad_(), u(n, scale=0.2).requires_grad_()) for w, n in filters]
    d = sum(n for _, n in filters)
    highways = [(u(2 * d, d).requires_grad_(),
                 torch.cat([torch.zeros(d), torch.full((d,), -2.0)]).requires_grad_()) for _ in range(n_highway)]
    proj_w, proj_b = u(out_dim, d).requires_grad_(), u(out_dim, scale=0.2).requires_grad_()
    e = emb[table[token_ids]].transpose(1, 2)  # (N, C, K)
    x = torch.cat([torch.tanh(F.conv1d(e, w, b).max(dim=2).values) for w, b in convs], 1)
    for w, b in highways:
        z = x @ w.t() + b
        nonlin, gate = z.chunk(2, 1)
        g = torch.sigmoid(gate)
        x = g * F.relu(nonlin) + (1 - g) * x
    y = x @ proj_w.t() + proj_b
    r = u(*y.shape, scale=1.0)
    (y * r).sum().backward()
    # Harness layout of a conv weight: (n, w*C), index j*C + c  <-  torch (n, C, w).
    to_harness = lambda w: w.permute(0, 2, 1).reshape(w.shape[0], -1)
    return {
        "words": words, "max_characters": K, "char_embedding_size": C,
        "filters": [[w, n] for w, n in filters], "highway_layers": n_highway, "output_size": out_dim,
        "activation": "tanh", "character_table": [int(v) for v in table.reshape(-1)],
        "token_ids": [int(v) for v in token_ids],
        "char_embedding": flat(emb),
        "conv_weights": [flat(to_harness(w)) for w, _ in convs], "conv_biases": [flat(b) for _, b in convs],
        "highway_weights": [flat(w) for w, _ in highways], "highway_biases": [flat(b) for _, b in highways],
        "projection_weight": flat(proj_w), "projection_bias": flat(proj_b),
        "upstream": flat(r), "output": flat(y),
        "grad_char_embedding": flat(emb.grad),
        "grad_conv_weights": [flat(to_harness(w.grad)) for w, _ in convs],
        "grad_conv_biases": [flat(b.grad) for _, b in convs],
        "grad_highway_weights": [flat(w.grad) for w, _ in highways],
        "grad_highway_biases": [flat(b.grad) for _, b in highways],
        "grad_projection_weight": flat(proj_w.grad), "grad_projection_bias": flat(proj_b.grad),
    }


def softmax_probe():
    N, D, V = 6, 4, 9
    h = u(N, D, scale=1.0).requires_grad_()
    w, b = u(V, D, scale=1.0).requires_grad_(), u(V, scale=0.5).requires_grad_()
    targets = torch.tensor([0, 3, 8, 3, 5, 1])
    loss = F.cross_entropy(h @ w.t() + b, targets)  # mean NLL in nats
    loss.backward()
    return {
        "rows": N, "input_size": D, "vocabulary": V, "hidden": flat(h), "weight": flat(w), "bias": flat(b),
        "targets": [int(t) for t in targets], "mean_nll": loss.item(),
        "grad_hidden": flat(h.grad), "grad_weight": flat(w.grad), "grad_bias": flat(b.grad),
    }


def gru_probe():
    """nn.GRU itself (PyTorch's equations: the reset gate scales W_hn h + b_hn), two
    layers' worth of shapes in one: T=4, B=2, D=3, H=5, starting from a non-zero h0."""
    T, B, D, H = 4, 2, 3, 5
    gru = torch.nn.GRU(D, H)
    with torch.no_grad():
        for p in gru.parameters():
            p.copy_(u(*p.shape, scale=0.6))
    x = u(T, B, D, scale=1.5).requires_grad_()
    h0 = u(1, B, H, scale=0.8)
    y, h_n = gru(x, h0)
    r = u(*y.shape, scale=1.0)
    (y * r).sum().backward()
    return {
        "steps": T, "batch": B, "input_size": D, "hidden": H,
        "input": flat(x), "initial_state": flat(h0),
        "input_weight": flat(gru.weight_ih_l0), "recurrent_weight": flat(gru.weight_hh_l0),
        "input_bias": flat(gru.bias_ih_l0), "recurrent_bias": flat(gru.bias_hh_l0),
        "upstream": flat(r), "output": flat(y), "final_state": flat(h_n),
        "grad_input": flat(x.grad), "grad_input_weight": flat(gru.weight_ih_l0.grad),
        "grad_recurrent_weight": flat(gru.weight_hh_l0.grad), "grad_input_bias": flat(gru.bias_ih_l0.grad),
        "grad_recurrent_bias": flat(gru.bias_hh_l0.grad),
    }


def adaptive_softmax_probe():
    """nn.AdaptiveLogSoftmaxWithLoss itself: D=8, V=13, cutoffs [4, 8], div_value 2 (tail
    projections of 4 and 2 columns), targets in the head and in both tail clusters."""
    N, D, V, cutoffs = 10, 8, 13, [4, 8]
    asm = torch.nn.AdaptiveLogSoftmaxWithLoss(D, V, cutoffs, div_value=2.0)
    with torch.no_grad():
        for p in asm.parameters():
            p.copy_(u(*p.shape, scale=0.6))
    h = u(N, D, scale=1.0).requires_grad_()
    targets = torch.tensor([0, 3, 4, 7, 8, 12, 1, 9, 5, 11])
    result = asm(h, targets)  # output: log p(target) per row; loss: their negated mean
    result.loss.backward()
    return {
        "rows": N, "input_size": D, "vocabulary": V, "cutoffs": cutoffs, "div_value": 2.0,
        "hidden": flat(h), "targets": [int(t) for t in targets],
        "head_weight": flat(asm.head.weight),
        "tail_projections": [flat(t[0].weight) for t in asm.tail], "tail_weights": [flat(t[1].weight) for t in asm.tail],
        "target_log_probs": flat(result.output), "mean_nll": result.loss.item(),
        "log_prob_sums": flat(asm.log_prob(h).exp().sum(dim=1)),
        "grad_hidden": flat(h.grad), "grad_head_weight": flat(asm.head.weight.grad),
        "grad_tail_projections": [flat(t[0].weight.grad) for t in asm.tail],
        "grad_tail_weights": [flat(t[1].weight.grad) for t in asm.tail],
    }


def lstm_probe():
    """nn.LSTM itself, with its two biases (bias_ih, bias_hh: the harness's recurrent_bias),
    T=4, B=2, D=3, H=5, from a non-zero state."""
    T, B, D, H = 4, 2, 3, 5
    lstm = torch.nn.LSTM(D, H)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(u(*p.shape, scale=0.6))
    x = u(T, B, D, scale=1.5).requires_grad_()
    h0, c0 = u(1, B, H, scale=0.8), u(1, B, H, scale=0.8)
    y, (h_n, c_n) = lstm(x, (h0, c0))
    r = u(*y.shape, scale=1.0)
    (y * r).sum().backward()
    return {
        "steps": T, "batch": B, "input_size": D, "hidden": H,
        "input": flat(x), "initial_output": flat(h0), "initial_cell": flat(c0),
        "input_weight": flat(lstm.weight_ih_l0), "recurrent_weight": flat(lstm.weight_hh_l0),
        "input_bias": flat(lstm.bias_ih_l0), "recurrent_bias": flat(lstm.bias_hh_l0),
        "upstream": flat(r), "output": flat(y), "final_output": flat(h_n), "final_cell": flat(c_n),
        "grad_input": flat(x.grad), "grad_input_weight": flat(lstm.weight_ih_l0.grad),
        "grad_recurrent_weight": flat(lstm.weight_hh_l0.grad), "grad_input_bias": flat(lstm.bias_ih_l0.grad),
        "grad_recurrent_bias": flat(lstm.bias_hh_l0.grad),
        "torch": torch.__version__,   # added later than the others (--only lstm)
    }


fixture = {
    "provenance": {"generator": "tools/make_probe_fixture.py", "torch": torch.__version__,
                   "dtype": "float64", "seed": 20261125},
    "lstmp": lstmp_probe(), "charcnn": charcnn_probe(), "softmax": softmax_probe(), "gru": gru_probe(),
    "adaptive_softmax": adaptive_softmax_probe(), "lstm": lstm_probe(),
}
parser = argparse.ArgumentParser()
parser.add_argument("--only", nargs="+", choices=[k for k in fixture if k != "provenance"],
                    help="rewrite just these probes, keeping the others as committed")
args = parser.parse_args()
if args.only:
    committed = json.loads(OUT.read_text())
    for key in args.only:
        committed[key] = fixture[key]
    fixture = committed
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(fixture, indent=1) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size} bytes); lstmp: {fixture['lstmp']['note']}")
