import HarnessKernels
import HarnessModel

/// Helpers for probes against a reference implementation (PyTorch in float64, written
/// to JSON by a script): load its tensors into parameters and inputs, compare outputs.
public enum Probe {
    /// Copies `values` (row-major, as `torch.Tensor.flatten().tolist()` gives them) into `p`.
    public static func load<T: Scalar>(_ p: Parameter<T>, _ values: [Double]) {
        precondition(values.count == p.count, "\(p.name): fixture has \(values.count) values for \(p.count)")
        for i in values.indices { p.value.base[i] = T(values[i]) }
    }

    /// `values` as a (rows, count / rows) matrix in `arena`.
    public static func matrix<T: Scalar>(_ values: [Double], rows: Int, in arena: Arena) -> Matrix<T> {
        let m = arena.matrix(rows, values.count / rows, of: T.self)
        for i in values.indices { m.base[i] = T(values[i]) }
        return m
    }

    /// max |a − e| / max |e|: the worst error relative to the expected tensor's scale
    /// (infinity when the counts differ).
    public static func relativeError<T: Scalar>(_ actual: Matrix<T>, _ expected: [Double]) -> Double {
        guard actual.count == expected.count else { return .infinity }
        let scale = max(expected.map(abs).max() ?? 0, 1e-12)
        return (zip(actual.array, expected).map { abs(Double($0) - $1) }.max() ?? 0) / scale
    }
}
