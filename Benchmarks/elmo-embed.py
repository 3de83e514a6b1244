#!/usr/bin/env python3
"""`harness embed` against a PyTorch ELMo forward pass (AllenNLP's `_ElmoBiLm` conventions,
Benchmarks/elmo-embed-torch.py) on a model the size of a published bilm-tf model.

Writes random weights in the published shape (tools/make-random-elmo; the published files
are not downloaded), imports them with `harness import-elmo`, then, per thread count and
round, runs `harness embed RUN --layers all --format npy --timing` and the PyTorch script
one after the other on the same sentences (WikiText-2's validation text, embedded in the
project, the first lines up to --tokens tokens). Prints each pass's tokens/s, load time and
peak resident memory (the child's ru_maxrss), the medians, their ratio, and the largest
absolute difference between the two programs' vectors per layer. On a shared, noisy
machine the ratio of alternating passes is the only honest comparison.

    python3 Benchmarks/elmo-embed.py [--size original] [--threads 1,2] [--rounds 3] [--tokens 2000]
        [--batch-size 32] [--lines-per-part 512] [--harness .build/release/harness] [--python PYTHON] [--work /tmp/elmo-embed-bench]

PYTHON (default: this one) needs torch, numpy and h5py. The model and imported run are
cached in --work and reused when options.json and weights.hdf5 are there.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_SCRIPT = os.path.join(ROOT, "Benchmarks", "elmo-embed-torch.py")
MAKE_RANDOM = os.path.join(ROOT, "tools", "make-random-elmo")
VALID = os.path.join(ROOT, "data", "wikitext-2", "valid.txt")
TIMING = re.compile(r"timing: load ([0-9.]+) s, embed ([0-9.]+) s \((\d+) tokens in (\d+) sentences, ([0-9.]+) tokens/s\)")


def run_measured(command, env=None):
    """Runs command to completion; returns (stdout, stderr, peak resident MB of that child alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(process.pid, 0)  # wait4, not wait: the child's own ru_maxrss
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed ({os.waitstatus_to_exitcode(status)}):\n{stderr}")
    return stdout, stderr, usage.ru_maxrss / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="original", choices=["small", "medium", "original"])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tokens", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lines-per-part", type=int, default=512, help="harness embed's --lines-per-part")
    p.add_argument("--harness", default=os.path.join(ROOT, ".build", "release", "harness"))
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--work", default="/tmp/elmo-embed-bench")
    a = p.parse_args()
    import numpy as np  # after argument parsing, so that --help works without numpy

    model = os.path.join(a.work, a.size)
    options, weights = os.path.join(model, "options.json"), os.path.join(model, "weights.hdf5")
    if not (os.path.exists(options) and os.path.exists(weights)):
        subprocess.run([a.python, MAKE_RANDOM, "--size", a.size, "-o", model], check=True)
    run = os.path.join(a.work, a.size + "-run")
    if not os.path.exists(os.path.join(run, "best.ckpt")):
        subprocess.run([a.harness, "import-elmo", "--options", options, "--weights", weights, "-o", run], check=True)

    text, tokens = os.path.join(a.work, "input.txt"), 0
    with open(VALID, encoding="utf-8") as f, open(text, "w", encoding="utf-8") as out:
        for line in f:
            words = line.split()
            if not words or words[0] == "=":  # blank lines and section headings
                continue
            out.write(" ".join(words) + "\n")
            tokens += len(words)
            if tokens >= a.tokens:
                break

    ours_npy, theirs_npy = os.path.join(a.work, "harness.npy"), os.path.join(a.work, "torch.npy")
    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
        ours, theirs = [], []
        for round_ in range(a.rounds):
            if os.path.exists(ours_npy):
                os.remove(ours_npy)
            _, err, peak = run_measured([a.harness, "embed", run, "--input", text, "--layers", "all", "--format", "npy",
                                          "--batch-size", str(a.batch_size), "--lines-per-part", str(a.lines_per_part),
                                          "--timing", "-o", ours_npy], env)
            m = TIMING.search(err)
            if not m:
                sys.exit(f"no timing line from harness embed:\n{err}")
            ours.append((float(m.group(5)), float(m.group(1)), peak))
            out, _, peak = run_measured([a.python, TORCH_SCRIPT, "--options", options, "--weights", weights,
                                          "--input", text, "-o", theirs_npy, "--threads", str(threads),
                                          "--batch-size", str(a.batch_size)])
            r = json.loads(out.strip().splitlines()[-1])
            theirs.append((r["tokens_per_s"], r["load_s"], peak))
            print(f"{threads} thread(s) round {round_ + 1}: harness {ours[-1][0]:.0f} tok/s, "
                  f"PyTorch {theirs[-1][0]:.0f} tok/s", file=sys.stderr, flush=True)
        difference = np.abs(np.load(ours_npy).astype(np.float64) - np.load(theirs_npy).astype(np.float64))
        per_layer = difference.max(axis=(0, 2))
        median = lambda passes, i: statistics.median(x[i] for x in passes)
        rows.append((threads, [x[0] for x in ours], [x[0] for x in theirs], median(ours, 0), median(theirs, 0),
                     median(ours, 1), median(theirs, 1), max(x[2] for x in ours), max(x[2] for x in theirs), per_layer))

    print(f"\nELMo {a.size}: {os.path.getsize(weights) / 1e6:.0f} MB of weights, {tokens} tokens in "
          f"{sum(1 for _ in open(text))} sentences, batch {a.batch_size}, harness parts of {a.lines_per_part} lines, "
          f"{a.rounds} round(s) alternating")
    print("| threads | harness tok/s | PyTorch tok/s | ratio | load s (harness / PyTorch) | peak RSS MB (harness / PyTorch) | max abs diff per layer |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for threads, _, _, h, t, hl, tl, hm, tm, per_layer in rows:
        print(f"| {threads} | {h:.0f} | {t:.0f} | {h / t:.2f}x | {hl:.2f} / {tl:.2f} | {hm:.0f} / {tm:.0f} | "
              + ", ".join(f"{d:.1e}" for d in per_layer) + " |")


if __name__ == "__main__":
    main()
