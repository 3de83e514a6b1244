#!/usr/bin/env bash
# The packed small-row GEMM (Sources/PackedKernels) of several git revisions side by side,
# on the per-timestep shapes of configs A, B and C (one thread, Float):
#   - instructions executed inside harness_packed_gemm_f32 for one call, counted by
#     valgrind --tool=callgrind: independent of machine noise, but not of the kernel's
#     bottleneck (an FMA-bound loop with fewer wasted FMAs can execute more instructions);
#   - GFLOPS, the best of 15 timed runs of CALLS calls, the revisions alternating.
# Each revision's kernel is compiled as a release build compiles it (SwiftPM's clang, -O2),
# with DWARF 4 debug information, which valgrind 3.19 reads.
#
#   Benchmarks/packed-kernel/compare.sh [--variant avx2|avx512|generic] [--calls N] REV [REV...]
#
# REV is a commit, or "worktree" for the files as they are now; the ratio is last / first.
# The variant defaults to the widest this CPU runs. Needs valgrind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
variant="" calls=200
while [ $# -gt 0 ]; do
    case "$1" in
    --variant) variant=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { sed -n 2,15p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
clang=$(command -v clang || true)
[ -n "$clang" ] || { echo "no clang on PATH (the Swift toolchain's)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for rev in "$@"; do
    mkdir -p "$work/$rev/include"
    for file in PackedKernels.c packed_gemm_body.h include/PackedKernels.h; do
        if [ "$rev" = worktree ]; then cp "$root/Sources/PackedKernels/$file" "$work/$rev/$file"
        else git -C "$root" show "$rev:Sources/PackedKernels/$file" > "$work/$rev/$file"; fi
    done
    "$clang" -O2 -gdwarf-4 -fno-omit-frame-pointer -I "$work/$rev/include" "$work/$rev/PackedKernels.c" \
        "$here/driver.c" -o "$work/$rev/driver"
done
if [ -z "$variant" ]; then
    for candidate in avx512 avx2 generic; do
        "$work/$1/driver" "$candidate" 1 1 1 >/dev/null 2>&1 && { variant=$candidate; break; }
    done
fi
echo "variant $variant; instructions per call (callgrind), GFLOPS (best of 15 x $calls calls)"

# rows K N: A (LSTM 200, batch 20), B (LSTM 650, batch 20), C (LSTMP 512/128, batch 32)
shapes=("20 200 800" "20 800 200" "20 650 2600" "20 2600 650" "32 128 2048" "32 2048 128" "32 512 128" "32 128 512")
printf '%-13s' "rows K N"
for rev in "$@"; do printf '%14s %7s' "$rev" "GFLOPS"; done
printf '%8s %8s\n' "instr" "GFLOPS"
for shape in "${shapes[@]}"; do
    printf '%-13s' "$shape"
    first_count="" first_rate="" count="" rate=""
    for rev in "$@"; do
        out="$work/$rev/callgrind.out"
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --toggle-collect=harness_packed_gemm_f32 --callgrind-out-file="$out" \
            "$work/$rev/driver" "$variant" $shape >/dev/null 2>&1
        count=$(grep -m1 '^summary:' "$out" | awk '{print $2}')
        # shellcheck disable=SC2086
        rate=$("$work/$rev/driver" "$variant" $shape "$calls")
        printf '%14s %7s' "$count" "$rate"
        first_count=${first_count:-$count} first_rate=${first_rate:-$rate}
    done
    awk -v a="$first_count" -v b="$count" -v r="$first_rate" -v s="$rate" 'BEGIN { printf "%8.3f %8.3f\n", b / a, s / r }'
done
