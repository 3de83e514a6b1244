// One packed-GEMM kernel, instantiated by PackedKernels.c once per variant and scalar (a C
// template: no include guard, included once per instantiation). Defined before each inclusion:
//   NAME           the function's name
//   TARGET         its __attribute__((target(...))) string
//   T, V, LANES    the scalar, its vector type and lanes per vector
//   ROWS           rows of a per block: 2·ROWS accumulators, 2 panel vectors and one
//                  broadcast must fit the variant's vector registers
//   V_ZERO(), V_LOAD(p), V_STORE(p, v), V_SET1(x), V_FMADD(s, b, c) = s·b + c, V_ADD(x, y)

__attribute__((target(TARGET)))
static void NAME(const T *a, long rows, long k, const T *panels, long panel_begin, long panel_end,
                 T *c, long columns, int accumulate) {
    enum { WIDTH = 2 * LANES };
    for (long panel = panel_begin; panel < panel_end; panel++) {
        const long column = panel * WIDTH;
        const long valid = columns - column < WIDTH ? columns - column : WIDTH;
        for (long first = 0; first < rows; first += ROWS) {
            // A last block of fewer than ROWS rows repeats the last row and drops its results.
            const T *row[ROWS];
#pragma clang loop unroll(full)
            for (int r = 0; r < ROWS; r++) row[r] = a + (first + r < rows ? first + r : rows - 1) * k;
            V low[ROWS], high[ROWS];
#pragma clang loop unroll(full)
            for (int r = 0; r < ROWS; r++) { low[r] = V_ZERO(); high[r] = V_ZERO(); }
            const T *p = panels + panel * k * WIDTH;
            for (long i = 0; i < k; i++, p += WIDTH) {
                const V b0 = V_LOAD(p), b1 = V_LOAD(p + LANES);
#pragma clang loop unroll(full)
                for (int r = 0; r < ROWS; r++) {
                    const V s = V_SET1(row[r][i]);
                    low[r] = V_FMADD(s, b0, low[r]);
                    high[r] = V_FMADD(s, b1, high[r]);
                }
            }
#pragma clang loop unroll(full)
            for (int r = 0; r < ROWS; r++) {
                if (first + r >= rows) break;
                T *out = c + (first + r) * columns + column;
                if (valid == WIDTH) {
                    V_STORE(out, accumulate ? V_ADD(V_LOAD(out), low[r]) : low[r]);
                    V_STORE(out + LANES, accumulate ? V_ADD(V_LOAD(out + LANES), high[r]) : high[r]);
                } else {
                    // The panel's last columns: through a buffer, lane by lane.
                    T lanes[2 * LANES];
                    V_STORE(lanes, low[r]);
                    V_STORE(lanes + LANES, high[r]);
                    for (long j = 0; j < valid; j++) out[j] = accumulate ? out[j] + lanes[j] : lanes[j];
                }
            }
        }
    }
}

#undef NAME
#undef TARGET
#undef T
#undef V
#undef LANES
#undef ROWS
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_FMADD
#undef V_ADD
