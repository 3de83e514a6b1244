// Times every cblas_sgemm call of a process by its shape (transposes, M, N, K, beta ≠ 0)
// and prints, at exit, each shape that took 1 % or more of the sgemm time: calls, seconds,
// share, GFLOPS. Loaded with LD_PRELOAD by run.sh. `perf` cannot split OpenBLAS's time by
// shape (Debian's OpenBLAS has no frame pointers, so its samples have no callers).
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE, const blasint,
                         const blasint, const blasint, const float, const float *, const blasint, const float *,
                         const blasint, const float, float *, const blasint);

enum { MAX_SHAPES = 512 };
struct shape { int transpose_a, transpose_b, m, n, k, beta; long calls; double seconds; };
static struct shape shapes[MAX_SHAPES];
static int shape_count;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void report(void) {
    double total = 0;
    for (int i = 0; i < shape_count; i++) total += shapes[i].seconds;
    for (int i = 0; i < shape_count; i++) {
        const struct shape *s = &shapes[i];
        if (s->seconds < 0.01 * total) continue;
        const double flops = 2.0 * s->m * (double)s->n * s->k * s->calls;
        fprintf(stderr, "sgemm %c%c M=%d N=%d K=%d beta=%d calls=%ld %.3f s (%.1f %%) %.1f GFLOPS\n",
                s->transpose_a ? 'T' : 'N', s->transpose_b ? 'T' : 'N', s->m, s->n, s->k, s->beta, s->calls,
                s->seconds, 100 * s->seconds / total, flops / s->seconds / 1e9);
    }
    fprintf(stderr, "sgemm total %.3f s\n", total);
}

void cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, const blasint m,
                 const blasint n, const blasint k, const float alpha, const float *a, const blasint lda, const float *b,
                 const blasint ldb, const float beta, float *c, const blasint ldc) {
    static sgemm_fn real;
    if (!real) {
        real = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
        atexit(report);
    }
    const double start = now();
    real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    const double seconds = now() - start;
    const int transpose_a = ta == CblasTrans, transpose_b = tb == CblasTrans, has_beta = beta != 0;
    int i = 0;
    while (i < shape_count && !(shapes[i].transpose_a == transpose_a && shapes[i].transpose_b == transpose_b && shapes[i].m == m
                                && shapes[i].n == n && shapes[i].k == k && shapes[i].beta == has_beta)) i++;
    if (i == shape_count) {
        if (shape_count == MAX_SHAPES) return;
        shapes[shape_count++] = (struct shape){transpose_a, transpose_b, m, n, k, has_beta, 0, 0};
    }
    shapes[i].calls++;
    shapes[i].seconds += seconds;
}
