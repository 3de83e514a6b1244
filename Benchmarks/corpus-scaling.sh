#!/bin/bash
# Loading at scale (issue #20): synthetic corpora of 2M and 20M tokens in one file and
# 200M tokens in 20 shards (500k word types; the same bytes on every machine), each
# loaded twice in a fresh process per batching mode: first building the corpus cache
# (the one pass over the text), then reusing it. Prints one table row per process:
# load time, first-pass MB/s, training tokens/s and peak resident memory (VmHWM).
#
#   Benchmarks/corpus-scaling.sh [WORK_FOLDER]     # default /tmp/harness-corpus-scaling (~1.2 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/harness-corpus-scaling}
swift build -c release --product harness-microbench --scratch-path .build-tests --traits MPI >/dev/null
bench=$(swift build -c release --scratch-path .build-tests --traits MPI --show-bin-path)/harness-microbench
for size in 2M:2000000:1 20M:20000000:1 200M:200000000:20; do
    IFS=: read -r name tokens shards <<< "$size"
    [ -d "$work/$name" ] || tools/make-corpus "$work/$name" "$tokens" "$shards" >/dev/null
done
echo "corpus | batching | text | tokens | shards | cache | load | load rate | tokens/s | peak RSS"
echo "---|---|---:|---:|---:|---|---:|---:|---:|---:"
for name in 2M 20M 200M; do
    for batching in stream sentences; do
        export HARNESS_CACHE_DIR="$work/cache-$name-$batching"
        rm -rf "$HARNESS_CACHE_DIR"
        "$bench" --corpus-load "$work/$name" --batching "$batching"   # builds the cache
        "$bench" --corpus-load "$work/$name" --batching "$batching"   # reuses it
    done
done
