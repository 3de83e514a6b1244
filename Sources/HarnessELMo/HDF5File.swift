import CHDF5
import Foundation
import HarnessData

/// An HDF5 file of Float32 datasets, as bilm-tf's `dump_weights` and `dump_bilm_embeddings`
/// write them and AllenNLP reads them: read and written through the HDF5 C library
/// (`CHDF5`, Debian's libhdf5-dev), never parsed by hand.
///
/// Datasets are named by their path below the root without the leading slash
/// ("CNN/W_cnn_0", "RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0"). Values are row-major
/// (C order, as h5py and NumPy hold them). Every failure is a `DataError` naming the file
/// and, where there is one, the dataset. Debian's library is built thread-safe (one
/// global lock), so files may be used from several threads.
public final class HDF5File {
    public let path: String
    private let file: hid_t

    /// Opens `path` for reading.
    /// - Throws: `DataError` when the file is missing or is not HDF5.
    public init(reading path: String) throws {
        _ = Self.silenceLibraryErrors
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError("no such file", file: path)
        }
        guard !isDirectory.boolValue else { throw DataError("expected an HDF5 file, found a directory", file: path) }
        guard H5Fis_hdf5(path) > 0 else { throw DataError("not an HDF5 file", file: path) }
        file = H5Fopen(path, harness_h5f_acc_rdonly(), harness_h5p_default())
        guard file >= 0 else { throw DataError("cannot open this HDF5 file", file: path) }
    }

    /// Creates (or truncates) `path` for writing.
    /// - Throws: `DataError` when the file cannot be created.
    public init(creating path: String) throws {
        _ = Self.silenceLibraryErrors
        self.path = path
        file = H5Fcreate(path, harness_h5f_acc_trunc(), harness_h5p_default(), harness_h5p_default())
        guard file >= 0 else { throw DataError("cannot create an HDF5 file here", file: path) }
    }

    deinit { H5Fclose(file) }

    /// Once per process: the library's own error printing off (see `harness_h5_silence_errors`).
    private static let silenceLibraryErrors: Void = harness_h5_silence_errors()

    /// Every dataset's name, in name order.
    public func datasetNames() throws -> [String] {
        let names = NameList()
        let status = harness_h5_visit_datasets(file, { name, context in
            guard let name, let context else { return }
            Unmanaged<NameList>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name))
        }, Unmanaged.passUnretained(names).toOpaque())
        guard status >= 0 else { throw DataError("cannot list the datasets (a damaged file or a dangling link)", file: path) }
        return names.names
    }

    /// The dimensions of dataset `name` (empty for a scalar).
    public func shape(of name: String) throws -> [Int] {
        let dataset = try open(name)
        defer { H5Dclose(dataset) }
        return try shape(of: dataset, name: name)
    }

    /// Dataset `name`'s values as Float32, row-major, with its dimensions. Float64 values
    /// are rounded to Float32 by the library.
    /// - Throws: `DataError` when it is missing or does not hold floating-point numbers.
    public func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let dataset = try open(name)
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_FLOAT else {
            throw DataError("dataset '\(name)' does not hold floating-point numbers", file: path)
        }
        let dimensions = try shape(of: dataset, name: name)
        var values = [Float](repeating: 0, count: dimensions.reduce(1, *))
        let status = values.withUnsafeMutableBytes {
            H5Dread(dataset, harness_h5t_native_float(), harness_h5s_all(), harness_h5s_all(), harness_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw DataError("cannot read dataset '\(name)'", file: path) }
        return (dimensions, values)
    }

    /// Writes `values` (row-major, `shape.reduce(1, *)` of them) as Float32 little-endian
    /// dataset `name`, creating its groups.
    public func write(_ name: String, shape: [Int], values: [Float]) throws {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for the shape \(shape)")
        let dimensions = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dimensions.count), dimensions, nil)
        defer { H5Sclose(space) }
        let links = harness_h5_intermediate_groups()
        defer { H5Pclose(links) }
        let dataset = H5Dcreate2(file, name, harness_h5t_ieee_f32le(), space, links, harness_h5p_default(), harness_h5p_default())
        guard space >= 0, links >= 0, dataset >= 0 else { throw DataError("cannot create dataset '\(name)'", file: path) }
        defer { H5Dclose(dataset) }
        let status = values.withUnsafeBytes {
            H5Dwrite(dataset, harness_h5t_native_float(), harness_h5s_all(), harness_h5s_all(), harness_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw DataError("cannot write dataset '\(name)'", file: path) }
    }

    private func open(_ name: String) throws -> hid_t {
        // H5Lexists fails, rather than answering false, when a group on the way is missing.
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard H5Lexists(file, prefix, harness_h5p_default()) > 0 else {
                throw DataError("no dataset '\(name)'", file: path)
            }
        }
        let dataset = H5Dopen2(file, name, harness_h5p_default())
        guard dataset >= 0 else { throw DataError("'\(name)' is not a dataset", file: path) }
        return dataset
    }

    private func shape(of dataset: hid_t, name: String) throws -> [Int] {
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw DataError("cannot read the shape of dataset '\(name)'", file: path) }
        var dimensions = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space, &dimensions, nil)
        return dimensions.map { Int($0) }
    }
}

/// What the C dataset walk appends to, through its context pointer.
private final class NameList {
    var names: [String] = []
}
