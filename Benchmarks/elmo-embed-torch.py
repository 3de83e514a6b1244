#!/usr/bin/env python3
"""ELMo's forward pass in PyTorch, as AllenNLP's `_ElmoBiLm` computes it, from a model in
bilm-tf's format (options.json + HDF5 weights): the baseline `Benchmarks/elmo-embed.py`
compares `harness embed` with.

    elmo-embed-torch.py --options OPTIONS --weights WEIGHTS --input TEXT -o OUT.npy [--threads N] [--batch-size 32]

Each line of TEXT is a sentence (tokens split on spaces), read from a zero state with
<S> and </S> around it, as `harness embed` does by default. OUT.npy is float32
(tokens, layers, 2P) like `harness embed --layers all --format npy`: layer 0 the token
representation twice, then each LSTM layer's [forward; backward] output. The last line
of standard output is JSON: load and embed seconds, tokens, tokens/s.

The model, with bilm-tf's (AllenNLP's) conventions:
- characters: UTF-8 bytes between begin/end-of-word markers (258, 259), padded with 260
  to max_characters_per_token, <S>/</S> as the single markers 256/257; ids + 1 index
  char_embed with a zero row 0 in front (n_characters 262);
- char-CNN: per width a conv1d, max over positions, + bias, relu/tanh; highway layers
  y = g * relu(x W_transform + b_t) + (1 - g) * x with g = sigmoid(x W_carry + b_c);
  the CNN_proj projection;
- LSTMs: TensorFlow's LSTMCell (gates i, j, f, o of [x; h] W_0 + B, forget_bias 1,
  cell clip, projection W_P_0, projection clip), a Python loop over time as AllenNLP's
  LstmCellWithProjection, the backward direction reading each sentence reversed within
  its own length; skip connections from the second layer on.

Needs torch, numpy and h5py.
"""
import argparse, json, os, sys, time

import h5py
import numpy as np
import torch


def character_ids(token, k):
    ids = [260] * k
    ids[0] = 258
    if token in ("<S>", "</S>"):
        ids[1], n = (256 if token == "<S>" else 257), 2
    else:
        data = token.encode("utf-8")[: k - 2]
        ids[1:1 + len(data)] = list(data)
        n = 1 + len(data)
    ids[n] = 259
    return ids


class ELMo:
    def __init__(self, options, weights):
        self.cnn, self.lstm = options["char_cnn"], options["lstm"]
        with h5py.File(weights, "r") as f:
            w = {name: torch.from_numpy(np.asarray(f[name])) for name in self._names(f)}
        self.char_embed = torch.cat([torch.zeros(1, w["char_embed"].shape[1]), w["char_embed"]])
        # conv1d weights (out, in, width) from TensorFlow's (1, width, in, out).
        self.convs = [(w[f"CNN/W_cnn_{i}"][0].permute(2, 1, 0).contiguous(), w[f"CNN/b_cnn_{i}"])
                      for i in range(len(self.cnn["filters"]))]
        self.highways = [(w[f"CNN_high_{k}/W_carry"], w[f"CNN_high_{k}/b_carry"],
                          w[f"CNN_high_{k}/W_transform"], w[f"CNN_high_{k}/b_transform"])
                         for k in range(self.cnn.get("n_highway", 0))]
        self.proj = (w["CNN_proj/W_proj"], w["CNN_proj/b_proj"]) if "CNN_proj/W_proj" in w else None
        self.cells = [[(w[f"RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0"], w[f"RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B"],
                        w.get(f"RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0"))
                       for l in range(self.lstm.get("n_layers", 1))] for d in range(2)]

    @staticmethod
    def _names(f):
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        return names

    def tokens(self, char_ids):
        """(N, K) character ids -> (N, P) token representations."""
        x = self.char_embed[char_ids + 1].transpose(1, 2)            # (N, C, K)
        activation = torch.relu if self.cnn["activation"] == "relu" else torch.tanh
        h = torch.cat([activation(torch.nn.functional.conv1d(x, weight).max(dim=2).values + bias)
                       for weight, bias in self.convs], dim=1)
        for w_carry, b_carry, w_transform, b_transform in self.highways:
            gate = torch.sigmoid(h @ w_carry + b_carry)
            h = gate * torch.relu(h @ w_transform + b_transform) + (1 - gate) * h
        return h @ self.proj[0] + self.proj[1] if self.proj else h

    def layer(self, x, lengths, kernel, bias, projection):
        """One LSTMCell over (B, T, D) inputs, zero state; padding positions' outputs are 0."""
        b, t, d = x.shape
        h_size = kernel.shape[1] // 4
        o = projection.shape[1] if projection is not None else h_size
        inputs = x @ kernel[:d] + bias                                 # all timesteps' input products at once
        recurrent = kernel[d:]
        h = x.new_zeros(b, o)
        c = x.new_zeros(b, h_size)
        out = x.new_zeros(b, t, o)
        clip_c, clip_p = self.lstm.get("cell_clip"), self.lstm.get("proj_clip")
        for step in range(t):
            live = int((lengths > step).sum())                     # sentences sorted longest first
            gates = inputs[:live, step] + h[:live] @ recurrent
            i, j, f, og = gates.split(h_size, dim=1)
            c_new = torch.sigmoid(f + 1.0) * c[:live] + torch.sigmoid(i) * torch.tanh(j)
            if clip_c:
                c_new = c_new.clamp(-clip_c, clip_c)
            h_new = torch.sigmoid(og) * torch.tanh(c_new)
            if projection is not None:
                h_new = h_new @ projection
                if clip_p:
                    h_new = h_new.clamp(-clip_p, clip_p)
            c = torch.cat([c_new, c[live:]])
            h = torch.cat([h_new, h[live:]])
            out[:live, step] = h_new
        return out

    def embed(self, sentences):
        """Sentences (lists of tokens, longest first) -> per sentence (n, layers, 2P)."""
        k = self.cnn["max_characters_per_token"]
        padded = [["<S>"] + s + ["</S>"] for s in sentences]
        lengths = torch.tensor([len(s) for s in padded])
        t = int(lengths.max())
        ids = torch.full((len(padded), t, k), -1, dtype=torch.long)
        for row, sentence in enumerate(padded):
            ids[row, : len(sentence)] = torch.tensor([character_ids(token, k) for token in sentence])
        flat = ids.view(-1, k)
        valid = flat[:, 0] >= 0
        representation = self.tokens(flat[valid])
        tokens = torch.zeros(flat.shape[0], representation.shape[1])
        tokens[valid] = representation
        tokens = tokens.view(len(padded), t, -1)

        def reverse(x):   # each sentence reversed within its own length
            y = x.clone()
            for row, n in enumerate(lengths.tolist()):
                y[row, :n] = x[row, :n].flip(0)
            return y

        layers = [torch.cat([tokens, tokens], dim=2)]
        inputs = [tokens, reverse(tokens)]
        for l in range(len(self.cells[0])):
            outputs = []
            for d in range(2):
                out = self.layer(inputs[d], lengths, *self.cells[d][l])
                if l > 0 and self.lstm.get("use_skip_connections"):
                    out = out + inputs[d]
                outputs.append(out)
            inputs = outputs
            layers.append(torch.cat([outputs[0], reverse(outputs[1])], dim=2))
        stacked = torch.stack(layers, dim=2)                          # (B, T, layers, 2P)
        return [stacked[row, 1: n - 1] for row, n in enumerate(lengths.tolist())]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--options", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    with open(args.options) as f:
        model = ELMo(json.load(f), args.weights)
    loaded = time.perf_counter()
    with open(args.input, encoding="utf-8") as f:
        sentences = [line.split() for line in f]
    # Longest first within the whole input, as AllenNLP's sort_batch_by_length; batches of --batch-size.
    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
    vectors = [None] * len(sentences)
    with torch.inference_mode():
        for first in range(0, len(order), args.batch_size):
            batch = order[first: first + args.batch_size]
            for index, v in zip(batch, model.embed([sentences[i] for i in batch])):
                vectors[index] = v
    embedded = time.perf_counter()
    tokens = sum(len(s) for s in sentences)
    np.save(args.output, torch.cat(vectors).numpy().astype(np.float32))
    print(json.dumps({"load_s": loaded - start, "embed_s": embedded - loaded, "tokens": tokens,
                      "tokens_per_s": tokens / (embedded - loaded), "threads": args.threads}))


if __name__ == "__main__":
    main()
