"""Train the PyTorch peer (../shared/bench/torch_bilm.py) from a harness checkpoint's
weights and print each step's loss, to compare with the harness's own steps
(`training.log_every: 1`) from the same weights.

    python3 Benchmarks/peer-trajectory.py CHECKPOINT VOCABULARY STEPS [--exact-norm] -- <torch_bilm.py arguments>

CHECKPOINT: a harness weights file (best.ckpt of a run trained with a learning rate of
1e-30: its initial weights); VOCABULARY: that run's vocabulary.txt. Forward models on
stream batching: word or char-CNN encoder, nn.LSTM (two biases), --cell custom (one
bias) or --cell gru (nn.GRU), full or adaptive softmax. --exact-norm: the global norm
for clipping summed in float64. --load GROUPS: only these of the harness's weights
(comma-separated: encoder, lstm, lstm-weights, lstm-biases, output; the rest the peer's
own draws); --shuffle: each weight matrix's entries permuted; --numpy-init SEED: every
parameter from numpy instead. With --valid, the last line is the validation perplexity
after the steps."""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "bench"))
import torch_bilm as tb  # noqa: E402

# Harness character ids (CharacterIDs.swift) of the peer's specials BOW, EOW, CPAD, BOS_C, EOS_C.
HARNESS_CHAR = {tb.BOW: 258, tb.EOW: 259, tb.CPAD: 260, tb.BOS_C: 256, tb.EOS_C: 257}


def read_checkpoint(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"LMHCKPT1", f"{path}: not a harness checkpoint"
    n = struct.unpack("<I", data[8:12])[0]
    header, offset, weights = json.loads(data[12:12 + n]), 12 + n, {}
    for p in header["parameters"]:
        count = p["rows"] * p["columns"]
        weights[p["name"]] = torch.from_numpy(
            np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(p["rows"], p["columns"]).copy())
        offset += 4 * count
    return weights


def load_weights(model, weights, rows, groups):
    """Copies the harness's weights of `groups` into the peer's model; `rows[i]` is the harness row of peer word id i."""
    with torch.no_grad():
        if "output" in groups and model.adaptive is not None:
            load_adaptive(model.adaptive, weights, rows)
        elif "output" in groups:
            model.softmax_w.copy_(weights["output.weight"][rows])
            model.softmax_b.copy_(weights["output.bias"][0][rows])
        if "encoder" in groups:
            load_encoder(model.encoder, weights, rows)
        # "lstm": the recurrent layers (LSTM or GRU) whole; "lstm-weights", "lstm-biases": a part.
        weights_too, biases_too = groups & {"lstm", "lstm-weights"}, groups & {"lstm", "lstm-biases"}
        for i, layer in enumerate(model.stacks[0].layers):
            name = f"forward.layer{i}"
            if isinstance(layer, (tb.TorchGRULayer, tb.TorchLSTMLayer)):
                # nn.GRU and nn.LSTM: the harness's two biases are bias_ih and bias_hh.
                gru = isinstance(layer, tb.TorchGRULayer)
                rnn = layer.gru if gru else layer.lstm
                pairs = [(weights_too, rnn.weight_ih_l0, ".input_weight"), (weights_too, rnn.weight_hh_l0, ".recurrent_weight"),
                         (biases_too, rnn.bias_ih_l0, ".input_bias" if gru else ".bias"),
                         (biases_too, rnn.bias_hh_l0, ".recurrent_bias")]
            else:
                pairs = [(weights_too, layer.w_ih.weight, ".input_weight"), (biases_too, layer.w_ih.bias, ".bias"),
                         (weights_too, layer.w_hh.weight, ".recurrent_weight")]
            for wanted, target, key in pairs:
                if wanted:
                    target.copy_(weights[name + key].view_as(target))


def load_adaptive(adaptive, weights, rows):
    """nn.AdaptiveLogSoftmaxWithLoss from the harness's (same names and layouts): the head's
    shortlist rows and each tail's output rows through `rows`, which must keep every word
    in its cluster (both order words by frequency; a tie across a cutoff would not)."""
    bounds = [0] + list(adaptive.cutoffs)
    for start, end in zip(bounds, bounds[1:]):
        moved = [i for i in range(start, end) if not start <= int(rows[i]) < end]
        assert not moved, f"words change cluster [{start}, {end}) between the vocabularies: peer ids {moved[:5]}"
    shortlist = adaptive.shortlist_size
    head = weights["output.head.weight"]
    adaptive.head.weight.copy_(torch.cat([head[rows[:shortlist]], head[shortlist:]]))
    for i, tail in enumerate(adaptive.tail):
        tail[0].weight.copy_(weights[f"output.tail.{i}.0.weight"])
        start = bounds[i + 1]
        tail[1].weight.copy_(weights[f"output.tail.{i}.1.weight"][rows[start:bounds[i + 2]] - start])


def load_encoder(encoder, weights, rows):
    if isinstance(encoder, torch.nn.Embedding):
        encoder.weight.copy_(weights["encoder.embedding"][rows])
        return
    chars = [HARNESS_CHAR.get(c, c) for c in range(tb.N_CHARS)]
    encoder.emb.weight.copy_(weights["encoder.char_embedding"][chars])
    for conv in encoder.convs:
        w, c = conv.kernel_size[0], conv.in_channels
        # harness (n, w·C), window offset-major; Conv1d (n, C, w)
        conv.weight.copy_(weights[f"encoder.conv{w}.weight"].view(-1, w, c).transpose(1, 2))
        conv.bias.copy_(weights[f"encoder.conv{w}.bias"][0])
    for i, highway in enumerate(encoder.highways):
        highway.weight.copy_(weights[f"encoder.highway{i}.weight"])
        highway.bias.copy_(weights[f"encoder.highway{i}.bias"][0])
    encoder.proj.weight.copy_(weights["encoder.projection.weight"])
    encoder.proj.bias.copy_(weights["encoder.projection.bias"][0])


def shuffle(weights, seed=7):
    """Each weight matrix's entries permuted (biases kept): the same values, no arrangement."""
    generator = np.random.default_rng(seed)
    for name, value in weights.items():
        if "bias" not in name:
            flat = value.reshape(-1).numpy().copy()
            generator.shuffle(flat)
            weights[name] = torch.from_numpy(flat.reshape(tuple(value.shape)))


def numpy_init(model, scale, seed):
    """Every parameter from PCG64's U(±scale), then the peer's constants (LanguageModel.__init__)."""
    generator = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(generator.uniform(-scale, scale, size=tuple(p.shape)).astype(np.float32)))
        for m in model.modules():
            if isinstance(m, tb.LSTMPLayer):
                m.w_ih.bias.zero_()
                m.w_ih.bias[m.hidden:2 * m.hidden] = 1.0
            if isinstance(m, tb.CharEncoder):
                for highway in m.highways:
                    highway.bias[:highway.out_features // 2] = 0.0
                    highway.bias[highway.out_features // 2:] = -2.0


def option(own, name):
    return own[own.index(name) + 1] if name in own else None


def clip_exact(parameters, maximum):
    """clip_grad_norm_ with the norm summed in float64."""
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
    if maximum / (norm + 1e-6) < 1:
        for g in grads:
            g.mul_(maximum / (norm + 1e-6))
    return norm


def main():
    split = sys.argv.index("--")
    own, a = sys.argv[1:split], tb.parse_args(sys.argv[split + 1:])
    checkpoint, vocabulary, steps, exact = own[0], own[1], int(own[2]), "--exact-norm" in own
    assert a.direction == "forward" and a.mode == "stream" and a.softmax in ("full", "adaptive")
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    train = tb.read_lines(a.train, a.max_tokens)
    itos = tb.build_vocab(train, False)
    stoi = {w: i for i, w in enumerate(itos)}
    train = [[stoi.get(w, stoi[tb.UNK]) for w in s] for s in train]
    harness_ids = {w: i for i, w in enumerate(Path(vocabulary).read_text(encoding="utf-8").split("\n")[:-1])}
    assert set(harness_ids) == set(itos), "the vocabularies differ"
    rows = torch.tensor([harness_ids[w] for w in itos])
    chars = tb.char_table(itos, a.max_chars) if a.token_encoder == "char" else None
    model = tb.LanguageModel(a, len(itos), chars)
    if option(own, "--numpy-init") is not None:
        numpy_init(model, a.init_scale, int(option(own, "--numpy-init")))
    else:
        weights = read_checkpoint(checkpoint)
        if "--shuffle" in own:
            shuffle(weights)
        load_weights(model, weights, rows, set((option(own, "--load") or "encoder,lstm,output").split(",")))
    optimizer = {"sgd": lambda ps: torch.optim.SGD(ps, lr=a.lr),
                 "adam": lambda ps: torch.optim.Adam(ps, lr=a.lr)}[a.optimizer](model.parameters())
    state = model.init_state(a.batch_size)
    for step, (xs, ys, _) in enumerate(tb.make_batches(train, a, rng, shuffle=True)[:steps], 1):
        outs, state = model(xs, tb.detach(state))
        loss = model.nll(outs[0].flatten(0, 1), ys[0].flatten()).mean()
        optimizer.zero_grad(set_to_none=True)
        (loss * xs[0].shape[0] if a.time_sum_loss else loss).backward()
        norm = clip_exact(model.parameters(), a.clip) if exact else \
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip).item()
        optimizer.step()
        print(json.dumps({"step": step, "loss": loss.item(), "norm": norm}))
    if a.valid:
        valid = [[stoi.get(w, stoi[tb.UNK]) for w in s] for s in tb.read_lines(a.valid, a.eval_max_tokens)]
        print(json.dumps({"valid_ppl": tb.evaluate(model, valid, a, rng)[0]}))


if __name__ == "__main__":
    main()
