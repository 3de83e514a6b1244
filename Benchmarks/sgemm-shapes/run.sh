#!/bin/bash
# The sgemm time of a harness command, by call shape (sgemm_shapes.c), e.g.
#   Benchmarks/sgemm-shapes/run.sh .build/release/harness bench --configs C --threads 1
# The table goes to stderr at exit; the sgemm rate bench measures first is its 2048³ row,
# counted in the shares (leave it out to read the step's own shares).
# One thread only (--threads 1): at two the harness calls sgemm from two threads at once,
# which the counters do not guard.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
library=$folder/sgemm_shapes.so
cc -O2 -shared -fPIC "$here/sgemm_shapes.c" -o "$library" -ldl -I/usr/include/x86_64-linux-gnu/openblas-pthread
LD_PRELOAD="$library" "$@"
