// One packed-GEMM kernel, instantiated by PackedKernels.c once per variant and scalar (a C
// template: no include guard, included once per instantiation). Defined before each inclusion:
//   NAME           the function's name
//   TARGET         its __attribute__((target(...))), or nothing for the generic variant
//   T, V, LANES    the scalar, its vector type and lanes per vector
//   ROWS           most rows of a per block: 4, 6 or 8: 2·ROWS accumulators, 2 panel
//                  vectors and one broadcast must fit the variant's vector registers
//   V_ZERO(), V_LOAD(p), V_STORE(p, v), V_SET1(x), V_FMADD(s, b, c) = s·b + c, V_ADD(x, y)

#define PACKED_CONCAT_(x, y) x##y
#define PACKED_CONCAT(x, y) PACKED_CONCAT_(x, y)
#define BLOCK PACKED_CONCAT(NAME, _block)

// `count` rows of a (from `a`, stride k) against one panel `p`, into c's rows from `out`
// (stride `columns`), of which `valid` columns exist. Always inlined with a constant
// `count`, so that the accumulators are registers.
TARGET __attribute__((always_inline))
static inline void BLOCK(const int count, const T *a, long k, const T *p, T *out, long columns, long valid,
                         int accumulate) {
    enum { WIDTH = 2 * LANES };
    const T *row[ROWS];
    V low[ROWS], high[ROWS];
#pragma clang loop unroll(full)
    for (int r = 0; r < count; r++) { row[r] = a + r * k; low[r] = V_ZERO(); high[r] = V_ZERO(); }
    for (long i = 0; i < k; i++, p += WIDTH) {
        const V b0 = V_LOAD(p), b1 = V_LOAD(p + LANES);
#pragma clang loop unroll(full)
        for (int r = 0; r < count; r++) {
            const V s = V_SET1(row[r][i]);
            low[r] = V_FMADD(s, b0, low[r]);
            high[r] = V_FMADD(s, b1, high[r]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < count; r++, out += columns) {
        if (valid == WIDTH) {
            V_STORE(out, accumulate ? V_ADD(V_LOAD(out), low[r]) : low[r]);
            V_STORE(out + LANES, accumulate ? V_ADD(V_LOAD(out + LANES), high[r]) : high[r]);
        } else {
            // The panel's last columns: through a buffer, lane by lane.
            T lanes[WIDTH];
            V_STORE(lanes, low[r]);
            V_STORE(lanes + LANES, high[r]);
            for (long j = 0; j < valid; j++) out[j] = accumulate ? out[j] + lanes[j] : lanes[j];
        }
    }
}

TARGET
static void NAME(const T *a, long rows, long k, const T *panels, long panel_begin, long panel_end,
                 T *c, long columns, int accumulate) {
    enum { WIDTH = 2 * LANES };
    // The rows in the fewest blocks of at most ROWS, as even as can be (20 rows with ROWS 6:
    // 5, 5, 5, 5), so that no block computes rows it throws away.
    const long blocks = (rows + ROWS - 1) / ROWS;
    for (long panel = panel_begin; panel < panel_end; panel++) {
        const long column = panel * WIDTH;
        const long valid = columns - column < WIDTH ? columns - column : WIDTH;
        const T *p = panels + panel * k * WIDTH;
        long first = 0;
        for (long block = 0; block < blocks; block++) {
            const long count = (rows - first) / (blocks - block);
            const T *rowsOfA = a + first * k;
            T *out = c + first * columns + column;
            // One case per block height, so that each inlined BLOCK has a constant count.
#define BLOCK_CASE(n) case n: BLOCK(n, rowsOfA, k, p, out, columns, valid, accumulate); break;
            switch (count) {
            BLOCK_CASE(1) BLOCK_CASE(2) BLOCK_CASE(3) BLOCK_CASE(4)
#if ROWS >= 6
            BLOCK_CASE(5) BLOCK_CASE(6)
#endif
#if ROWS >= 8
            BLOCK_CASE(7) BLOCK_CASE(8)
#endif
#undef BLOCK_CASE
            }
            first += count;
        }
    }
}

#undef BLOCK
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
