// The pointwise kernels (see PointwiseKernels.h): one instantiation of pointwise_body.h
// per variant, and the dispatch by variant.
#include "PointwiseKernels.h"

#include <float.h>
#include <string.h>

// Separate multiplies and adds everywhere, as the Swift kernels compute them: a fused
// multiply-add would round once instead of twice and change the bits.
#pragma clang fp contract(off)

// The helpers pass 64-byte vectors by value; they are all always_inline and static, so no
// call with the (register-width dependent) vector ABI exists for the warning to be about.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float pw_v16f __attribute__((vector_size(64)));
typedef int pw_v16i __attribute__((vector_size(64)));
typedef unsigned pw_v16u __attribute__((vector_size(64)));

#define PW(name) pw_generic_##name
#define TARGET
#include "pointwise_body.h"

#if defined(__x86_64__)
#define PW(name) pw_avx2_##name
#define TARGET __attribute__((target("avx2")))
#include "pointwise_body.h"

#define PW(name) pw_avx512_##name
#define TARGET __attribute__((target("avx512f")))
#include "pointwise_body.h"

// Indexed by harness_kernels; only the generic kernels exist off x86-64, where
// harness_kernels_supported() never returns the others.
#define VARIANTS(name) {pw_generic_##name, pw_avx2_##name, pw_avx512_##name}
#else
#define VARIANTS(name) {pw_generic_##name, pw_generic_##name, pw_generic_##name}
#endif

static void (*const lstm_forward[])(long, float *, const float *, int, int, float, float *, float *, float *) =
    VARIANTS(lstm_forward);
static void (*const lstm_backward[])(long, const float *, const float *, const float *, const float *, int, int, float,
                                     const float *, float *, float *) = VARIANTS(lstm_backward);
static void (*const gru_forward[])(long, float *, const float *, float *, const float *, float *) = VARIANTS(gru_forward);
static void (*const gru_backward[])(long, const float *, const float *, const float *, const float *, float *, float *,
                                    float *) = VARIANTS(gru_backward);
static float (*const softmax_exp[])(long, float *, float *) = VARIANTS(softmax_exp);
static void (*const sigmoid_in_place[])(long, float *) = VARIANTS(sigmoid_in_place);
static void (*const tanh_in_place[])(long, float *) = VARIANTS(tanh_in_place);

void harness_lstm_cell_forward_f32(harness_kernels variant, long hidden, float *gates, const float *previous_cell,
                                   int clip_previous, int has_cell_clip, float cell_clip, float *cell, float *cell_tanh,
                                   float *hidden_out) {
    lstm_forward[variant](hidden, gates, previous_cell, clip_previous, has_cell_clip, cell_clip, cell, cell_tanh, hidden_out);
}

void harness_lstm_cell_backward_f32(harness_kernels variant, long hidden, const float *gates, const float *cell,
                                    const float *cell_tanh, const float *previous_cell, int clip_previous, int has_cell_clip,
                                    float cell_clip, const float *d_hidden, float *d_cell, float *d_gates) {
    lstm_backward[variant](hidden, gates, cell, cell_tanh, previous_cell, clip_previous, has_cell_clip, cell_clip, d_hidden,
                           d_cell, d_gates);
}

void harness_gru_cell_forward_f32(harness_kernels variant, long hidden, float *gates, const float *hidden_gates,
                                  float *hidden_n, const float *previous, float *output) {
    gru_forward[variant](hidden, gates, hidden_gates, hidden_n, previous, output);
}

void harness_gru_cell_backward_f32(harness_kernels variant, long hidden, const float *gates, const float *hidden_n,
                                   const float *previous, const float *d_output, float *d_previous, float *d_input_gates,
                                   float *d_hidden_gates) {
    gru_backward[variant](hidden, gates, hidden_n, previous, d_output, d_previous, d_input_gates, d_hidden_gates);
}

float harness_softmax_exp_f32(harness_kernels variant, long count, float *z, float *max) {
    return softmax_exp[variant](count, z, max);
}

void harness_sigmoid_f32(harness_kernels variant, long count, float *x) { sigmoid_in_place[variant](count, x); }

void harness_tanh_f32(harness_kernels variant, long count, float *x) { tanh_in_place[variant](count, x); }
