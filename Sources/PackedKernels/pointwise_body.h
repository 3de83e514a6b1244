// The pointwise kernels of PointwiseKernels.h for one variant, instantiated by
// PointwiseKernels.c once per variant (a C template: no include guard). Defined before
// each inclusion:
//   PW(name)   the variant's name for `name` (e.g. pw_avx512_lstm_forward)
//   TARGET     its __attribute__((target(...))), or nothing for the generic variant
//
// The arithmetic is on 16-lane vectors of float (clang's vector extensions), which the
// compiler maps onto the variant's registers: one zmm, two ymm or four xmm. Each
// expression transcribes the Swift kernel it stands for operation by operation (same
// order, same constants rounded to float), and PointwiseKernels.c turns off fused
// multiply-add contraction, so every variant gives the Swift kernels' bits.

#define PW_INLINE TARGET __attribute__((always_inline)) static inline

// Lanes 0..<lanes from p, the rest 0 (`partialVector`); a single load when lanes is 16.
PW_INLINE pw_v16f PW(load)(const float *p, int lanes) {
    pw_v16f v = {0};
    memcpy(&v, p, (size_t)lanes * sizeof(float));
    return v;
}

PW_INLINE void PW(store)(float *p, pw_v16f v, int lanes) { memcpy(p, &v, (size_t)lanes * sizeof(float)); }

// a where mask, else b (Swift's `replacing(with:where:)`).
PW_INLINE pw_v16f PW(select)(pw_v16i mask, pw_v16f a, pw_v16f b) {
    return (pw_v16f)(((pw_v16i)a & mask) | ((pw_v16i)b & ~mask));
}

PW_INLINE pw_v16f PW(splat)(float x) { return (pw_v16f){0} + x; }

// FastMath.exp: Cephes expf, inputs clamped to [-87.33, 88.02].
PW_INLINE pw_v16f PW(exp)(pw_v16f input) {
    pw_v16f x = input;
    x = PW(select)(x > 88.02f, PW(splat)(88.02f), x);
    x = PW(select)(x < -87.33f, PW(splat)(-87.33f), x);
    const float magic = 12582912.0f;
    const pw_v16f shifted = x * 1.4426950408889634f + magic;
    const pw_v16f n = shifted - magic;
    pw_v16f r = x - n * 0.693359375f;
    r = r + n * 2.1219444e-4f;
    const pw_v16f r2 = r * r;
    pw_v16f p = PW(splat)(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const pw_v16f y = p * r2 + r + 1;
    const pw_v16u exponent = (((pw_v16u)shifted - 0x4B400000u) + 127u) << 23;
    return y * (pw_v16f)exponent;
}

// FastMath.sigmoid: 1 / (1 + e^-x).
PW_INLINE pw_v16f PW(sigmoid)(pw_v16f x) { return 1 / (1 + PW(exp)(-x)); }

// FastMath.tanh: Cephes tanhf's polynomial for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) beyond.
PW_INLINE pw_v16f PW(tanh)(pw_v16f x) {
    const pw_v16i negative = x < 0;
    const pw_v16f a = PW(select)(negative, -x, x);
    pw_v16f large = 1 - 2 / (PW(exp)(a + a) + 1);
    large = PW(select)(negative, -large, large);
    const pw_v16f z = x * x;
    pw_v16f p = PW(splat)(-5.70498872745e-3f);
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const pw_v16f small = p * z * x + x;
    return PW(select)(a < 0.625f, small, large);
}

// Float.clamp and Float.zeroWhereClamped.
PW_INLINE pw_v16f PW(clamp)(pw_v16f x, float limit) {
    const pw_v16i above = x > limit, below = x < -limit;
    return PW(select)(below, PW(splat)(-limit), PW(select)(above, PW(splat)(limit), x));
}

PW_INLINE pw_v16f PW(zero_where_clamped)(pw_v16f gradient, pw_v16f x, float limit) {
    return PW(select)((x > limit) | (x < -limit), PW(splat)(0), gradient);
}

// ---------------------------------------------------------------- LSTM cell

PW_INLINE void PW(lstm_forward_lanes)(long j, int lanes, long h, float *gates, const float *previous_cell, int clip_previous,
                                      int has_clip, float clip, float *cell, float *cell_tanh, float *hidden_out) {
    const pw_v16f i = PW(sigmoid)(PW(load)(gates + j, lanes));
    const pw_v16f f = PW(sigmoid)(PW(load)(gates + h + j, lanes));
    const pw_v16f g = PW(tanh)(PW(load)(gates + 2 * h + j, lanes));
    const pw_v16f o = PW(sigmoid)(PW(load)(gates + 3 * h + j, lanes));
    PW(store)(gates + j, i, lanes);
    PW(store)(gates + h + j, f, lanes);
    PW(store)(gates + 2 * h + j, g, lanes);
    PW(store)(gates + 3 * h + j, o, lanes);
    pw_v16f previous = PW(load)(previous_cell + j, lanes);
    if (clip_previous && has_clip) previous = PW(clamp)(previous, clip);
    const pw_v16f raw = f * previous + i * g;
    PW(store)(cell + j, raw, lanes);
    const pw_v16f tc = PW(tanh)(has_clip ? PW(clamp)(raw, clip) : raw);
    PW(store)(cell_tanh + j, tc, lanes);
    PW(store)(hidden_out + j, o * tc, lanes);
}

TARGET static void PW(lstm_forward)(long h, float *gates, const float *previous_cell, int clip_previous, int has_clip,
                                    float clip, float *cell, float *cell_tanh, float *hidden_out) {
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        PW(lstm_forward_lanes)(j, 16, h, gates, previous_cell, clip_previous, has_clip, clip, cell, cell_tanh, hidden_out);
    }
    if (j < h) {
        PW(lstm_forward_lanes)(j, (int)(h - j), h, gates, previous_cell, clip_previous, has_clip, clip, cell, cell_tanh, hidden_out);
    }
}

PW_INLINE void PW(lstm_backward_lanes)(long j, int lanes, long h, const float *gates, const float *cell, const float *cell_tanh,
                                       const float *previous_cell, int clip_previous, int has_clip, float clip,
                                       const float *d_hidden, float *d_cell, float *d_gates) {
    const pw_v16f i = PW(load)(gates + j, lanes), f = PW(load)(gates + h + j, lanes);
    const pw_v16f g = PW(load)(gates + 2 * h + j, lanes), o = PW(load)(gates + 3 * h + j, lanes);
    const pw_v16f tc = PW(load)(cell_tanh + j, lanes);
    const pw_v16f dh = PW(load)(d_hidden + j, lanes);
    pw_v16f dc = PW(load)(d_cell + j, lanes) + dh * o * (1 - tc * tc);
    if (has_clip) dc = PW(zero_where_clamped)(dc, PW(load)(cell + j, lanes), clip);
    pw_v16f previous = PW(load)(previous_cell + j, lanes);
    if (clip_previous && has_clip) previous = PW(clamp)(previous, clip);
    PW(store)(d_gates + j, dc * g * i * (1 - i), lanes);
    PW(store)(d_gates + h + j, dc * previous * f * (1 - f), lanes);
    PW(store)(d_gates + 2 * h + j, dc * i * (1 - g * g), lanes);
    PW(store)(d_gates + 3 * h + j, dh * tc * o * (1 - o), lanes);
    PW(store)(d_cell + j, dc * f, lanes);
}

TARGET static void PW(lstm_backward)(long h, const float *gates, const float *cell, const float *cell_tanh,
                                     const float *previous_cell, int clip_previous, int has_clip, float clip,
                                     const float *d_hidden, float *d_cell, float *d_gates) {
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        PW(lstm_backward_lanes)(j, 16, h, gates, cell, cell_tanh, previous_cell, clip_previous, has_clip, clip, d_hidden, d_cell,
                                d_gates);
    }
    if (j < h) {
        PW(lstm_backward_lanes)(j, (int)(h - j), h, gates, cell, cell_tanh, previous_cell, clip_previous, has_clip, clip, d_hidden,
                                d_cell, d_gates);
    }
}

// ---------------------------------------------------------------- GRU cell

PW_INLINE void PW(gru_forward_lanes)(long j, int lanes, long h, float *gates, const float *hidden_gates, float *hidden_n,
                                     const float *previous, float *output) {
    const pw_v16f r = PW(sigmoid)(PW(load)(gates + j, lanes) + PW(load)(hidden_gates + j, lanes));
    const pw_v16f z = PW(sigmoid)(PW(load)(gates + h + j, lanes) + PW(load)(hidden_gates + h + j, lanes));
    const pw_v16f hn = PW(load)(hidden_gates + 2 * h + j, lanes);
    const pw_v16f n = PW(tanh)(PW(load)(gates + 2 * h + j, lanes) + r * hn);
    PW(store)(gates + j, r, lanes);
    PW(store)(gates + h + j, z, lanes);
    PW(store)(gates + 2 * h + j, n, lanes);
    PW(store)(hidden_n + j, hn, lanes);
    PW(store)(output + j, (1 - z) * n + z * PW(load)(previous + j, lanes), lanes);
}

TARGET static void PW(gru_forward)(long h, float *gates, const float *hidden_gates, float *hidden_n, const float *previous,
                                   float *output) {
    long j = 0;
    for (; j + 16 <= h; j += 16) PW(gru_forward_lanes)(j, 16, h, gates, hidden_gates, hidden_n, previous, output);
    if (j < h) PW(gru_forward_lanes)(j, (int)(h - j), h, gates, hidden_gates, hidden_n, previous, output);
}

PW_INLINE void PW(gru_backward_lanes)(long j, int lanes, long h, const float *gates, const float *hidden_n, const float *previous,
                                      const float *d_output, float *d_previous, float *d_input_gates, float *d_hidden_gates) {
    const pw_v16f r = PW(load)(gates + j, lanes), z = PW(load)(gates + h + j, lanes), n = PW(load)(gates + 2 * h + j, lanes);
    const pw_v16f dh = PW(load)(d_output + j, lanes);
    const pw_v16f dn = dh * (1 - z) * (1 - n * n);
    const pw_v16f dz = dh * (PW(load)(previous + j, lanes) - n) * z * (1 - z);
    const pw_v16f dr = dn * PW(load)(hidden_n + j, lanes) * r * (1 - r);
    PW(store)(d_input_gates + j, dr, lanes);
    PW(store)(d_input_gates + h + j, dz, lanes);
    PW(store)(d_input_gates + 2 * h + j, dn, lanes);
    PW(store)(d_hidden_gates + j, dr, lanes);
    PW(store)(d_hidden_gates + h + j, dz, lanes);
    PW(store)(d_hidden_gates + 2 * h + j, dn * r, lanes);
    if (d_previous) PW(store)(d_previous + j, PW(load)(d_previous + j, lanes) + dh * z, lanes);
}

TARGET static void PW(gru_backward)(long h, const float *gates, const float *hidden_n, const float *previous, const float *d_output,
                                    float *d_previous, float *d_input_gates, float *d_hidden_gates) {
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        PW(gru_backward_lanes)(j, 16, h, gates, hidden_n, previous, d_output, d_previous, d_input_gates, d_hidden_gates);
    }
    if (j < h) {
        PW(gru_backward_lanes)(j, (int)(h - j), h, gates, hidden_n, previous, d_output, d_previous, d_input_gates, d_hidden_gates);
    }
}

// ---------------------------------------------------------------- softmax, sigmoid, tanh

TARGET static float PW(softmax_exp)(long v, float *z, float *max_out) {
    pw_v16f max_vector = PW(splat)(-FLT_MAX);
    long j = 0;
    for (; j + 16 <= v; j += 16) {
        const pw_v16f x = PW(load)(z + j, 16);
        max_vector = PW(select)(x > max_vector, x, max_vector);
    }
    float m = max_vector[0];
    for (int lane = 0; lane < 16; lane++) m = max_vector[lane] > m ? max_vector[lane] : m;
    for (; j < v; j++) m = z[j] >= m ? z[j] : m;
    pw_v16f sum_vector = PW(splat)(0);
    for (j = 0; j + 16 <= v; j += 16) {
        const pw_v16f e = PW(exp)(PW(load)(z + j, 16) - m);
        PW(store)(z + j, e, 16);
        sum_vector += e;
    }
    float s = -0.0f;
    for (int lane = 0; lane < 16; lane++) s += sum_vector[lane];
    if (j < v) {
        const int lanes = (int)(v - j);
        const pw_v16f e = PW(exp)(PW(load)(z + j, lanes) - m);
        PW(store)(z + j, e, lanes);
        for (int lane = 0; lane < lanes; lane++) s += e[lane];
    }
    *max_out = m;
    return s;
}

TARGET static void PW(sigmoid_in_place)(long count, float *x) {
    long i = 0;
    for (; i + 16 <= count; i += 16) PW(store)(x + i, PW(sigmoid)(PW(load)(x + i, 16)), 16);
    if (i < count) PW(store)(x + i, PW(sigmoid)(PW(load)(x + i, (int)(count - i))), (int)(count - i));
}

TARGET static void PW(tanh_in_place)(long count, float *x) {
    long i = 0;
    for (; i + 16 <= count; i += 16) PW(store)(x + i, PW(tanh)(PW(load)(x + i, 16)), 16);
    if (i < count) PW(store)(x + i, PW(tanh)(PW(load)(x + i, (int)(count - i))), (int)(count - i));
}

#undef PW_INLINE
#undef PW
#undef TARGET
