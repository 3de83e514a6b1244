// The packed small-row GEMM (see PackedKernels.h): one instantiation of
// packed_gemm_body.h per variant and scalar type, and the cpuid check that says which
// variants this machine runs.
#include "PackedKernels.h"

#include <string.h>

// ---------------------------------------------------------------- generic (every CPU)
// Two 128-bit vectors per panel row through clang's vector extensions: SSE2 on x86-64,
// NEON on arm64. No contraction into fused multiply-adds, so its results are the same
// wherever it runs.
#pragma clang fp contract(off)
typedef float harness_v4f __attribute__((vector_size(16)));
typedef double harness_v2d __attribute__((vector_size(16)));

static inline harness_v4f generic_load_f32(const float *p) { harness_v4f v; memcpy(&v, p, sizeof v); return v; }
static inline void generic_store_f32(float *p, harness_v4f v) { memcpy(p, &v, sizeof v); }
static inline harness_v2d generic_load_f64(const double *p) { harness_v2d v; memcpy(&v, p, sizeof v); return v; }
static inline void generic_store_f64(double *p, harness_v2d v) { memcpy(p, &v, sizeof v); }

#define NAME packed_gemm_generic_f32
#define TARGET
#define T float
#define V harness_v4f
#define LANES 4
#define ROWS 4
#define V_ZERO() ((harness_v4f){0, 0, 0, 0})
#define V_LOAD(p) generic_load_f32(p)
#define V_STORE(p, v) generic_store_f32(p, v)
#define V_SET1(x) ((harness_v4f){0, 0, 0, 0} + (x))
#define V_FMADD(s, b, c) ((c) + (s) * (b))
#define V_ADD(x, y) ((x) + (y))
#include "packed_gemm_body.h"

#define NAME packed_gemm_generic_f64
#define TARGET
#define T double
#define V harness_v2d
#define LANES 2
#define ROWS 4
#define V_ZERO() ((harness_v2d){0, 0})
#define V_LOAD(p) generic_load_f64(p)
#define V_STORE(p, v) generic_store_f64(p, v)
#define V_SET1(x) ((harness_v2d){0, 0} + (x))
#define V_FMADD(s, b, c) ((c) + (s) * (b))
#define V_ADD(x, y) ((x) + (y))
#include "packed_gemm_body.h"
#pragma clang fp contract(on)

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

// ---------------------------------------------------------------- AVX2 + FMA
// 16 ymm registers: at most 6 rows x 2 vectors = 12 accumulators, 2 panel vectors, 1 broadcast.
#define NAME packed_gemm_avx2_f32
#define TARGET __attribute__((target("avx2,fma")))
#define T float
#define V __m256
#define LANES 8
#define ROWS 6
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_SET1(x) _mm256_set1_ps(x)
#define V_FMADD(s, b, c) _mm256_fmadd_ps(s, b, c)
#define V_ADD(x, y) _mm256_add_ps(x, y)
#include "packed_gemm_body.h"

#define NAME packed_gemm_avx2_f64
#define TARGET __attribute__((target("avx2,fma")))
#define T double
#define V __m256d
#define LANES 4
#define ROWS 6
#define V_ZERO() _mm256_setzero_pd()
#define V_LOAD(p) _mm256_loadu_pd(p)
#define V_STORE(p, v) _mm256_storeu_pd(p, v)
#define V_SET1(x) _mm256_set1_pd(x)
#define V_FMADD(s, b, c) _mm256_fmadd_pd(s, b, c)
#define V_ADD(x, y) _mm256_add_pd(x, y)
#include "packed_gemm_body.h"

// ---------------------------------------------------------------- AVX-512 F
// 32 zmm registers: at most 8 rows x 2 vectors = 16 accumulators, 2 panel vectors, 1 broadcast.
#define NAME packed_gemm_avx512_f32
#define TARGET __attribute__((target("avx512f")))
#define T float
#define V __m512
#define LANES 16
#define ROWS 8
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMADD(s, b, c) _mm512_fmadd_ps(s, b, c)
#define V_ADD(x, y) _mm512_add_ps(x, y)
#include "packed_gemm_body.h"

#define NAME packed_gemm_avx512_f64
#define TARGET __attribute__((target("avx512f")))
#define T double
#define V __m512d
#define LANES 8
#define ROWS 8
#define V_ZERO() _mm512_setzero_pd()
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_STORE(p, v) _mm512_storeu_pd(p, v)
#define V_SET1(x) _mm512_set1_pd(x)
#define V_FMADD(s, b, c) _mm512_fmadd_pd(s, b, c)
#define V_ADD(x, y) _mm512_add_pd(x, y)
#include "packed_gemm_body.h"

/// XCR0: which register states the operating system saves on a context switch.
static unsigned long long extended_control_register(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

harness_kernels harness_kernels_supported(void) {
#if defined(__x86_64__)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return HARNESS_KERNELS_GENERIC;
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave || !avx) return HARNESS_KERNELS_GENERIC;
    const unsigned long long xcr0 = extended_control_register();
    if ((xcr0 & 0x6) != 0x6) return HARNESS_KERNELS_GENERIC;              // SSE and AVX state
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return HARNESS_KERNELS_GENERIC;
    const int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1;
    if (avx512f && fma && (xcr0 & 0xe6) == 0xe6) return HARNESS_KERNELS_AVX512;  // + opmask, ZMM state
    if (avx2 && fma) return HARNESS_KERNELS_AVX2;
#endif
    return HARNESS_KERNELS_GENERIC;
}

const char *harness_kernels_name(harness_kernels variant) {
    switch (variant) {
    case HARNESS_KERNELS_AVX512: return "avx512";
    case HARNESS_KERNELS_AVX2: return "avx2";
    default: return "generic";
    }
}

int harness_kernels_parse(const char *name) {
    for (int v = HARNESS_KERNELS_GENERIC; v <= HARNESS_KERNELS_AVX512; v++) {
        if (strcmp(name, harness_kernels_name((harness_kernels)v)) == 0) return v;
    }
    return -1;
}

long harness_packed_width_f32(harness_kernels variant) {
    switch (variant) {
    case HARNESS_KERNELS_AVX512: return 32;
    case HARNESS_KERNELS_AVX2: return 16;
    default: return 8;
    }
}

long harness_packed_width_f64(harness_kernels variant) { return harness_packed_width_f32(variant) / 2; }

// Indexed by harness_kernels; only the generic kernels exist off x86-64, where
// harness_kernels_supported() never returns the others.
#if defined(__x86_64__)
#define KERNELS(T) {packed_gemm_generic_##T, packed_gemm_avx2_##T, packed_gemm_avx512_##T}
#else
#define KERNELS(T) {packed_gemm_generic_##T, packed_gemm_generic_##T, packed_gemm_generic_##T}
#endif
static void (*const kernels_f32[])(const float *, long, long, const float *, long, long, float *, long, int) = KERNELS(f32);
static void (*const kernels_f64[])(const double *, long, long, const double *, long, long, double *, long, int) = KERNELS(f64);

void harness_packed_gemm_f32(harness_kernels variant, const float *a, long rows, long k, const float *panels,
                             long panel_begin, long panel_end, float *c, long columns, int accumulate) {
    kernels_f32[variant](a, rows, k, panels, panel_begin, panel_end, c, columns, accumulate);
}

void harness_packed_gemm_f64(harness_kernels variant, const double *a, long rows, long k, const double *panels,
                             long panel_begin, long panel_end, double *c, long columns, int accumulate) {
    kernels_f64[variant](a, rows, k, panels, panel_begin, panel_end, c, columns, accumulate);
}
