#!/usr/bin/env python3
"""The harness against the PyTorch peer on the reference configurations A-D, E (A with GRU
layers), F-full and F-adaptive (A on 33,278 words, full or adaptive softmax).

Runs `harness bench` and `../shared/bench/torch_bilm.py` on the same configuration one
after the other, ROUNDS times, at the same thread count, and prints each pass's
training tokens/s, the medians, their ratio, and both peak memories. On a shared,
noisy machine the ratio of alternating passes is the only honest comparison.

    python3 Benchmarks/compare-with-pytorch.py [--configs A,B,C,D,E,F-full,F-adaptive] [--threads 1,2] [--rounds 3]
        [--harness .build/release/harness] [--python /work/.venv-torch/bin/python]

Needs a release build of the harness and a Python with torch and numpy.
"""
import argparse, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "..", "shared", "bench", "torch_bilm.py")

# The peer's own reference commands (../shared/bench/README.md); D uses --char-unique,
# the stronger peer, as that README says to.
COMMON_ZAREMBA = ("--synthetic 200000 --vocab-size 10000 --direction forward --token-encoder word --layers 2 "
                  "--softmax full --optimizer sgd --lr 1 --clip 5 --time-sum-loss --mode stream --batch-size 20")
COMMON_ELMO = ("--synthetic 300000 --vocab-size 10000 --direction bidirectional --layers 2 --hidden 512 --proj 128 "
               "--cell-clip 3 --proj-clip 3 --softmax sampled --num-sampled 1024 --optimizer adagrad --lr 0.2 --clip 10 "
               "--batch-size 32 --mode sentences --max-len 40 --synthetic-sent-len 39:39 --warmup-steps 10")
PEER_ARGS = {
    "A": COMMON_ZAREMBA + " --hidden 200 --bptt 20 --init-scale 0.1 --max-steps 410 --warmup-steps 10",
    "B": COMMON_ZAREMBA + " --hidden 650 --bptt 35 --dropout 0.5 --init-scale 0.05 --max-steps 60 --warmup-steps 5",
    "C": COMMON_ELMO + " --token-encoder word --tie-weights --max-steps 60",
    "D": COMMON_ELMO + " --token-encoder char --filters [[1,32],[2,32],[3,64],[4,128],[5,256]] --highway 2 --char-unique --max-steps 40",
}
# E = A with GRU layers (nn.GRU in the peer).
PEER_ARGS["E"] = PEER_ARGS["A"] + " --cell gru"
# F = A on WikiText-2's vocabulary size; later arguments override earlier ones.
PEER_ARGS["F-full"] = PEER_ARGS["A"].replace("--vocab-size 10000", "--vocab-size 33278").replace("--max-steps 410", "--max-steps 70")
PEER_ARGS["F-adaptive"] = (PEER_ARGS["A"].replace("--vocab-size 10000", "--vocab-size 33278")
                           + " --softmax adaptive --cutoffs 2000,10000 --div-value 4")


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def harness_pass(harness, config, threads):
    out = subprocess.run([harness, "bench", "--configs", config, "--threads", str(threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    r = last_json(out)
    return r["tokensPerSecond"], r["peakMemoryBytes"] / 1e6


def peer_pass(python, config, threads):
    out = subprocess.run([python, PEER] + PEER_ARGS[config].split() + ["--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    r = last_json(out)
    return r["tokens_per_sec"], r["peak_rss_mb"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", default="A,B,C,D")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--harness", default=os.path.join(ROOT, ".build", "release", "harness"))
    p.add_argument("--python", default=sys.executable)
    a = p.parse_args()
    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        for config in a.configs.split(","):
            ours, theirs, our_mem, their_mem = [], [], 0.0, 0.0
            for round_ in range(a.rounds):
                tps, mem = harness_pass(a.harness, config, threads)
                ours.append(tps)
                our_mem = max(our_mem, mem)
                tps, mem = peer_pass(a.python, config, threads)
                theirs.append(tps)
                their_mem = max(their_mem, mem)
                print(f"{config} {threads} thread(s) round {round_ + 1}: harness {ours[-1]:.0f} tok/s, "
                      f"PyTorch {theirs[-1]:.0f} tok/s", file=sys.stderr, flush=True)
            h, t = statistics.median(ours), statistics.median(theirs)
            rows.append((config, threads, h, t, h / t, our_mem, their_mem))
    print("| config | threads | harness tokens/s | PyTorch tokens/s | ratio | harness peak MB | PyTorch peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for config, threads, h, t, ratio, m1, m2 in rows:
        print(f"| {config} | {threads} | {h:.0f} | {t:.0f} | {ratio:.2f}x | {m1:.0f} | {m2:.0f} |")
    print(f"\nmedians of {a.rounds} alternating passes each", file=sys.stderr)


if __name__ == "__main__":
    main()
