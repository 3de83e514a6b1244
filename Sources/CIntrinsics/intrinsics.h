// Math primitives that Swift lowers poorly on Linux, as clang builtins Swift can inline.
#pragma once

/// √x as LLVM's `llvm.sqrt` (no errno). Swift's `squareRoot()` calls libm's `sqrt`,
/// whose errno branch keeps the loop vectoriser from turning it into `vsqrtpd`.
static inline double harness_sqrt(double x) { return __builtin_elementwise_sqrt(x); }
