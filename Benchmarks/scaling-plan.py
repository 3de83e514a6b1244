#!/usr/bin/env python3
"""The data-parallel plan of docs/scaling.md (issue #22), from measurements on this machine.

Measures, with the harness at HARNESS (default: the test build's, built with the MPI trait):
  * `harness bench --configs A,B,C,D,ELMo-small --threads 2 --json`: tokens/s of a two-core
    node and the bytes a step all-reduces (4 × the gradient values it wrote);
  * ELMo-small's step time at the per-process batch of N = 8, 32 and 128 processes
    (128/N sequences), by `harness run` on the bench's synthetic 793k-word corpus.
Then models a ring all-reduce (each process sends and receives 2(N-1)/N of the bytes, plus
2(N-1) messages of LATENCY seconds) on 10, 25 and 100 Gbit/s links, with no overlap of
communication and computation (the harness sums after the backward pass).

    python3 Benchmarks/scaling-plan.py [HARNESS] [--latency 2e-5]
"""
import argparse, glob, json, os, subprocess, tempfile

parser = argparse.ArgumentParser()
parser.add_argument("harness", nargs="?", help="default: the test build's (swift build --traits MPI --scratch-path .build-tests)")
parser.add_argument("--latency", type=float, default=20e-6, help="seconds per message (TCP over Ethernet: ~20 µs)")
parser.add_argument("--steps", type=int, default=24, help="steps per small-batch run")
args = parser.parse_args()
if args.harness is None:
    build = ["swift", "build", "-c", "release", "--traits", "MPI", "--scratch-path", ".build-tests"]
    subprocess.run(build + ["--product", "harness"], check=True, capture_output=True)
    args.harness = subprocess.run(build + ["--show-bin-path"], check=True, capture_output=True, text=True).stdout.strip() + "/harness"

LINKS = [10, 25, 100]                         # Gbit/s
EPOCH_TOKENS = 1.6e9                          # 1B Word Benchmark, target tokens per epoch, both directions
ELMO_BATCH, ELMO_BPTT = 128, 20

bench = {}
out = subprocess.run([args.harness, "bench", "--configs", "A,B,C,D,ELMo-small", "--threads", "2", "--json"],
                     check=True, capture_output=True, text=True).stdout
for line in out.splitlines():
    r = json.loads(line)
    bench[r["label"]] = r


def allreduce_seconds(nbytes, n, gbits):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * nbytes / (gbits * 1e9 / 8) + 2 * (n - 1) * args.latency


def step_seconds(r):
    return r["tokensPerStep"] / r["tokensPerSecond"]


print("## Bytes all-reduced per step, and where communication reaches 10 % of the step\n")
print("Global batch fixed (the same experiment for every N); computation assumed to shrink as 1/N.\n")
print("| config | parameters | all-reduce per step | step on one 2-core node | "
      + " | ".join(f"shortest computation at 10 % ({g} Gbit/s)" for g in LINKS) + " | "
      + " | ".join(f"N at 10 % ({g} Gbit/s)" for g in LINKS) + " |")
print("|---|---:|---:|---:|" + "---:|" * (2 * len(LINKS)))
for label in ["A", "B", "C", "D", "ELMo-small"]:
    r = bench[label]
    nbytes = 4 * r["reducedValuesPerStep"]
    t1 = step_seconds(r)
    cells = []
    for g in LINKS:
        n = 1
        while n < 4096:
            comm = allreduce_seconds(nbytes, n, g)
            if comm >= 0.1 * (t1 / n + comm):
                break
            n += 1
        cells.append(str(n))
    # The shortest step whose all-reduce is at most 10 % of it: 9 × the all-reduce, at
    # many nodes (the ring then sends twice the bytes).
    shortest = [9 * 2 * nbytes / (g * 1e9 / 8) for g in LINKS]
    print(f"| {label} | {r['parameters'] / 1e6:.1f}M | {nbytes / 1e6:.1f} MB | {t1 * 1e3:.0f} ms | "
          + " | ".join(f"{t * 1e3:.0f} ms" for t in shortest) + " | " + " | ".join(cells) + " |")

# ELMo-small's measured step at smaller per-process batches.
corpus = "/tmp/harness-bench-3000000-793471"
spec = open("Sources/HarnessTraining/Benchmark.swift").read().split('private static let elmoSmall = """')[1].split('"""')[0]
spec = "\n".join(line[8:] for line in spec.strip("\n").splitlines())
work = tempfile.mkdtemp(prefix="scaling-plan-")
elmo_step = {1: step_seconds(bench["ELMo-small"])}
for n in [8, 32, 128]:
    b = ELMO_BATCH // n
    text = (f"name: elmo-small-per-process-{b}\nseed: 1\n"
            + spec.replace("CORPUS", corpus).replace(f"batch_size: {ELMO_BATCH}", f"batch_size: {b}")
            + f"  epochs: 1\n  max_tokens: {b * ELMO_BPTT * 2 * args.steps}\n")
    path = os.path.join(work, f"b{b}.yaml")
    open(path, "w").write(text)
    subprocess.run([args.harness, "run", path, "--runs", work + "/runs", "--threads", "2", "--quiet"], check=True, capture_output=True)
    r = json.load(open(glob.glob(f"{work}/runs/elmo-small-per-process-{b}-*/result.json")[0]))
    elmo_step[n] = b * ELMO_BPTT * 2 / r["tokensPerSecond"]

nbytes = 4 * bench["ELMo-small"]["reducedValuesPerStep"]
steps_per_epoch = EPOCH_TOKENS / (ELMO_BATCH * ELMO_BPTT * 2)
print(f"\n## ELMo-small on the 1B Word Benchmark: one epoch ({EPOCH_TOKENS / 1e9:.1f}G target tokens)\n")
print(f"Measured step on one 2-core node at the per-process batch: "
      + ", ".join(f"{ELMO_BATCH // n} sequences {elmo_step[n] * 1e3:.0f} ms" for n in [1, 8, 32, 128]) + ".\n")
print("| nodes | per-process batch | computation | " + " | ".join(f"all-reduce {g} Gbit/s" for g in LINKS)
      + " | " + " | ".join(f"epoch {g} Gbit/s" for g in LINKS) + " |")
print("|---:|---:|---:|" + "---:|" * (2 * len(LINKS)))
for n in [1, 8, 32, 128]:
    comms = [allreduce_seconds(nbytes, n, g) for g in LINKS]
    epochs = [steps_per_epoch * (elmo_step[n] + c) / 3600 for c in comms]
    print(f"| {n} | {ELMO_BATCH // n} | {elmo_step[n] * 1e3:.0f} ms | " + " | ".join(f"{c * 1e3:.0f} ms" for c in comms)
          + " | " + " | ".join(f"{h:.0f} h" for h in epochs) + " |")
print("\nGrowing the batch instead (128 sequences per process, batch_size 128·N: a different experiment):\n")
print("| nodes | " + " | ".join(f"epoch {g} Gbit/s" for g in LINKS) + " |")
print("|---:|" + "---:|" * len(LINKS))
for n in [1, 8, 32, 128]:
    epochs = [steps_per_epoch / n * (elmo_step[1] + allreduce_seconds(nbytes, n, g)) / 3600 for g in LINKS]
    print(f"| {n} | " + " | ".join(f"{h:.1f} h" for h in epochs) + " |")
