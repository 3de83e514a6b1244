// The packed small-row GEMM kernels, one variant per x86-64 instruction set, chosen at
// run time (issue #16). Swift cannot compile one function for AVX-512 and another for
// AVX2 in the same module, so the variants are C functions with
// __attribute__((target(...))); the rest of the binary needs no -march.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/// A kernel variant. Higher is wider; every CPU runs HARNESS_KERNELS_GENERIC.
typedef enum {
    HARNESS_KERNELS_GENERIC = 0,  ///< portable C (SSE2 on x86-64), no fused multiply-add
    HARNESS_KERNELS_AVX2 = 1,     ///< AVX2 + FMA, 16 ymm registers: blocks of up to 6 rows x 2 vectors
    HARNESS_KERNELS_AVX512 = 2,   ///< AVX-512 F, 32 zmm registers: blocks of up to 8 rows x 2 vectors
} harness_kernels;

/// The widest variant this CPU and operating system support (cpuid, and xgetbv for the
/// register state the OS saves).
harness_kernels harness_kernels_supported(void);

/// "generic", "avx2" or "avx512".
const char *harness_kernels_name(harness_kernels variant);

/// The variant named `name`; -1 if none.
int harness_kernels_parse(const char *name);

/// Columns per packed panel of `variant`: two of its vectors of float (or double).
long harness_packed_width_f32(harness_kernels variant);
long harness_packed_width_f64(harness_kernels variant);

/// c[0..rows, p*w ..< (p+1)*w] (columns clipped to `columns`) for panels p in
/// [panel_begin, panel_end), w = harness_packed_width_*(variant):
/// c = a * panel (+ c when `accumulate`).
///
/// a (rows, k) row-major; panels: each k rows of w contiguous values, panel p at
/// panels + p*k*w, zero past `columns`; c (rows, columns) row-major. Each element of c is
/// the sum over k in order, fused multiply-adds in the AVX2 and AVX-512 variants (the same
/// bits in both), separate multiply and add in the generic one.
void harness_packed_gemm_f32(harness_kernels variant, const float *a, long rows, long k, const float *panels,
                             long panel_begin, long panel_end, float *c, long columns, int accumulate);
void harness_packed_gemm_f64(harness_kernels variant, const double *a, long rows, long k, const double *panels,
                             long panel_begin, long panel_end, double *c, long columns, int accumulate);

#ifdef __cplusplus
}
#endif
