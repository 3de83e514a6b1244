// The packed small-row GEMM (Sources/PackedKernels) on one shape: one call, for
// valgrind --tool=callgrind to count its instructions, or, with CALLS, timed: the best
// of 15 runs of CALLS calls, printed as GFLOPS.
//
//   driver VARIANT ROWS K N [CALLS]     c (ROWS, N) = a (ROWS, K) · op(b) (K, N), every panel
#include "PackedKernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s generic|avx2|avx512 ROWS K N [CALLS]\n", argv[0]);
        return 2;
    }
    const int variant = harness_kernels_parse(argv[1]);
    const long rows = atol(argv[2]), k = atol(argv[3]), n = atol(argv[4]);
    if (variant < 0 || rows < 1 || k < 1 || n < 1) {
        fprintf(stderr, "bad arguments: variant %s, ROWS %s, K %s, N %s\n", argv[1], argv[2], argv[3], argv[4]);
        return 2;
    }
    if ((int)harness_kernels_supported() < variant) {
        fprintf(stderr, "this CPU does not run the %s kernels\n", argv[1]);
        return 2;
    }
    const long width = harness_packed_width_f32((harness_kernels)variant), panels = (n + width - 1) / width;
    float *a = malloc(sizeof(float) * rows * k), *b = malloc(sizeof(float) * panels * k * width);
    float *c = malloc(sizeof(float) * rows * n);
    if (!a || !b || !c) return 1;
    for (long i = 0; i < rows * k; i++) a[i] = (float)(i % 7) * 0.25f;
    for (long i = 0; i < panels * k * width; i++) b[i] = (float)(i % 5) * 0.5f;
    const long calls = argc == 6 ? atol(argv[5]) : 0;
    if (calls <= 0) {
        harness_packed_gemm_f32((harness_kernels)variant, a, rows, k, b, 0, panels, c, n, 0);
        printf("%g\n", (double)c[rows * n - 1]);  // keeps the call
    } else {
        double best = 1e30;
        for (int run = 0; run < 16; run++) {   // the first run warms up
            struct timespec start, end;
            clock_gettime(CLOCK_MONOTONIC, &start);
            for (long call = 0; call < calls; call++)
                harness_packed_gemm_f32((harness_kernels)variant, a, rows, k, b, 0, panels, c, n, 1);
            clock_gettime(CLOCK_MONOTONIC, &end);
            const double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
            if (run > 0 && seconds < best) best = seconds;
        }
        printf("%.1f\n", 2.0 * (double)(rows * k * n) * (double)calls / best / 1e9);
    }
    free(a); free(b); free(c);
    return 0;
}
