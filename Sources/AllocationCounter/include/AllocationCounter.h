#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, aligned allocations) made by this process
/// so far, counted by the interposed allocator entry points of AllocationCounter.c.
uint64_t harness_allocation_count(void);

#endif
