// HDF5's C library (Debian: libhdf5-dev, found through pkg-config as `hdf5`), the values
// its headers define as macros (which Swift cannot import), and a dataset walk that
// compiles against both the 1.10 link-visiting API (Debian 12) and the 1.12+ one, where
// `H5Lvisit` and `H5L_info_t` are macros for their version-2 forms.
#pragma once
#include <hdf5.h>

static inline hid_t harness_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t harness_h5s_all(void) { return H5S_ALL; }
static inline unsigned harness_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned harness_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
/// Float32 in this machine's byte order: what values are read into and written from.
static inline hid_t harness_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
/// Float32 little-endian: the file type bilm-tf's `dump_weights` writes (h5py 'float32').
static inline hid_t harness_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }

/// Stops the library printing its error stack on standard error: the harness reports
/// every failure itself, naming the file and the dataset.
static inline void harness_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/// A link-creation property list that creates missing intermediate groups
/// ("CNN_high_0/W_carry" creates "CNN_high_0"); close it with H5Pclose.
static inline hid_t harness_h5_intermediate_groups(void) {
    hid_t list = H5Pcreate(H5P_LINK_CREATE);
    if (list >= 0) H5Pset_create_intermediate_group(list, 1);
    return list;
}

/// Called with each dataset's path relative to the root ("CNN/W_cnn_0").
typedef void (*harness_h5_dataset_visitor)(const char *path, void *context);

struct harness_h5_visit { harness_h5_dataset_visitor visitor; void *context; };

static inline herr_t harness_h5_visit_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    hid_t object = H5Oopen(group, name, H5P_DEFAULT);
    if (object < 0) return -1;
    H5I_type_t type = H5Iget_type(object);
    H5Oclose(object);
    if (type == H5I_DATASET) {
        struct harness_h5_visit *visit = (struct harness_h5_visit *)data;
        visit->visitor(name, visit->context);
    }
    return 0;
}

/// Every dataset below `file`'s root, in name order; negative when the walk failed
/// (a dangling link, a damaged file).
static inline herr_t harness_h5_visit_datasets(hid_t file, harness_h5_dataset_visitor visitor, void *context) {
    struct harness_h5_visit visit = { visitor, context };
    return H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, harness_h5_visit_link, &visit);
}
