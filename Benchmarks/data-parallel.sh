#!/bin/bash
# Data parallelism on one machine (issue #22): config C of `harness bench` (ELMo-small,
# word: bidirectional LSTMP 2×512/128, sampled softmax 1024, tied, Adagrad, batch 32)
# trained for TOKENS tokens on a synthetic corpus (tools/make-corpus: 1M tokens, 10k word
# types, the same bytes on every machine), as one process with 2 BLAS threads and as
# `mpirun -np 2` with one thread each, alternating, ROUNDS times. Prints each run's
# training tokens/s (result.json: training time only, no evaluation).
#
#   Benchmarks/data-parallel.sh [WORK_FOLDER] [ROUNDS] [TOKENS]   # default /tmp/harness-data-parallel 2 100000
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/harness-data-parallel} rounds=${2:-2} tokens=${3:-100000}
swift build -c release --product harness --scratch-path .build-tests --traits MPI >/dev/null
harness=$(swift build -c release --scratch-path .build-tests --traits MPI --show-bin-path)/harness
[ -d "$work/corpus" ] || tools/make-corpus "$work/corpus" 1000000 1 10000 >/dev/null
export HARNESS_CACHE_DIR="$work/cache"
cat > "$work/c.yaml" <<SPEC
name: data-parallel-c
seed: 1
data:
  train: $work/corpus/train-00001-of-00001.txt
  batching: {type: sentences, batch_size: 32, max_length: 40}
model:
  direction: bidirectional
  token_encoder: {type: word, dim: 128}
  recurrent: {type: lstm-projected, layers: 2, hidden: 512, projection: 128, cell_clip: 3, proj_clip: 3, residual: true}
  output: {type: sampled-softmax, samples: 1024, tie_weights: true}
training:
  epochs: 1
  max_tokens: $tokens
  optimizer: {type: adagrad, lr: 0.2}
  clip: {type: global-norm, max: 10}
SPEC
rate() { python3 -c "import json,glob; print('%.0f' % json.load(open(glob.glob('$1/*/result.json')[0]))['tokensPerSecond'])"; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $tokens training tokens per run"
echo "round | 1 process × 2 threads | 2 processes × 1 thread (mpirun) | ratio"
echo "---:|---:|---:|---:"
for round in $(seq "$rounds"); do
    rm -rf "$work/one" "$work/two"
    "$harness" run "$work/c.yaml" --runs "$work/one" --threads 2 --quiet >/dev/null
    mpirun --allow-run-as-root --oversubscribe -np 2 "$harness" run "$work/c.yaml" --runs "$work/two" --quiet >/dev/null
    one=$(rate "$work/one") two=$(rate "$work/two")
    echo "$round | $one | $two | $(python3 -c "print('%.2f' % ($two / $one))")"
done
