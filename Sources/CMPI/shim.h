// The MPI C library (Debian: libopenmpi-dev, found through pkg-config as `mpi`) and the
// handles its header defines as macros, which Swift cannot import: the world
// communicator, the element types and the reduction operations the harness uses.
#pragma once
#include <mpi.h>

static inline MPI_Comm harness_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype harness_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype harness_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype harness_mpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Op harness_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op harness_mpi_max(void) { return MPI_MAX; }
/// MPI_IN_PLACE: a reduction whose result replaces its input.
static inline void *harness_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Datatype harness_mpi_int32(void) { return MPI_INT32_T; }
