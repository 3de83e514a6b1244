// The fused pointwise kernels of a training step in single precision: the LSTM and GRU
// cells' gate nonlinearities and their gradients, the softmax's exponentials, and
// in-place sigmoid and tanh; one variant per x86-64 instruction set, chosen at run time
// as the packed GEMM's are (issue #16).
//
// Every variant computes, lane by lane, the same IEEE operations in the same order as
// the portable Swift kernels (HarnessKernels: FastMath, LSTMCellKernels, GRUCellKernels,
// softmaxCrossEntropy), with no contraction into fused multiply-adds: their results are
// the same bits on every CPU and in every variant. Only the vector width differs: 16
// lanes in one zmm register (AVX-512), two ymm (AVX2) or four xmm (generic) registers.
//
// Shapes are one batch row: `hidden` = H units; gates hold [i f g o] (LSTM) or [r z n]
// (GRU) blocks of H each.
#pragma once

#include "PackedKernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// LSTM cell forward: gates (4H) pre-activations → σ(i), σ(f), tanh(g), σ(o) in place;
/// cell = σ(f)·c_prev + σ(i)·tanh(g) (c_prev clipped to ±cell_clip when `clip_previous`);
/// cell_tanh = tanh(clip(cell)); hidden_out = σ(o)·cell_tanh. `has_cell_clip` = 0: no clipping.
void harness_lstm_cell_forward_f32(harness_kernels variant, long hidden, float *gates, const float *previous_cell,
                                   int clip_previous, int has_cell_clip, float cell_clip, float *cell, float *cell_tanh,
                                   float *hidden_out);

/// LSTM cell backward: from the activations `forward` left and d_hidden = ∂L/∂h_t, with
/// d_cell = ∂L/∂c_t from t+1 in and ∂L/∂c_{t−1} out; writes d_gates (4H) = ∂L/∂ pre-activations.
void harness_lstm_cell_backward_f32(harness_kernels variant, long hidden, const float *gates, const float *cell,
                                    const float *cell_tanh, const float *previous_cell, int clip_previous, int has_cell_clip,
                                    float cell_clip, const float *d_hidden, float *d_cell, float *d_gates);

/// GRU cell forward (PyTorch's nn.GRU): gates (3H) input pre-activations [r z n]ₓ in,
/// activations r, z, n out; hidden_gates (3H) the recurrent ones [r z n]ₕ; writes
/// hidden_n = nₕ and output = (1 − z)·n + z·previous.
void harness_gru_cell_forward_f32(harness_kernels variant, long hidden, float *gates, const float *hidden_gates,
                                  float *hidden_n, const float *previous, float *output);

/// GRU cell backward: d_output = ∂L/∂h_t; adds ∂L/∂h_{t−1} through z into d_previous
/// (when not NULL); writes d_input_gates and d_hidden_gates (3H each).
void harness_gru_cell_backward_f32(harness_kernels variant, long hidden, const float *gates, const float *hidden_n,
                                   const float *previous, const float *d_output, float *d_previous, float *d_input_gates,
                                   float *d_hidden_gates);

/// One softmax row: m = max z, z ← e^{z − m} in place; returns Σ e^{z − m} (16-lane
/// partial sums, then their lanes in order, then the tail's) and stores m in *max.
float harness_softmax_exp_f32(harness_kernels variant, long count, float *z, float *max);

/// x ← σ(x) and x ← tanh(x), in place.
void harness_sigmoid_f32(harness_kernels variant, long count, float *x);
void harness_tanh_f32(harness_kernels variant, long count, float *x);

#ifdef __cplusplus
}
#endif
