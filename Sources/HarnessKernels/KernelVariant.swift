import Foundation
import PackedKernels

/// The instruction-set variant of the packed small-row GEMM (`PackedMatrix`), chosen once
/// at start-up from `cpuid`, as OpenBLAS's DYNAMIC_ARCH and oneDNN choose theirs.
///
/// - `avx512`: AVX-512 F, 32 zmm registers, blocks of 8 rows × 2 vectors (32 Float columns).
/// - `avx2`: AVX2 + FMA, 16 ymm registers, 6 rows × 2 vectors (16 Float columns): the
///   AVX-512 blocking would need 32 registers there and spill.
/// - `generic`: portable 128-bit vectors without fused multiply-add, 4 rows × 2 vectors.
///
/// The AVX2 and AVX-512 variants give the same bits (each output is one fused
/// multiply-add chain over k, in order); the generic one rounds each product separately,
/// so its results differ in the last bits: for Float inputs in ±1, by at most 1e-5·√k
/// (as the tests check), and a training run's trajectory drifts apart from there. `HARNESS_KERNELS=generic|avx2|avx512` forces a
/// variant the CPU supports (to compare them, or to reproduce the other machine's bits).
public enum KernelVariant: Int, CaseIterable, Sendable, CustomStringConvertible {
    case generic = 0, avx2 = 1, avx512 = 2

    /// The widest variant this CPU and operating system support.
    public static let supported = KernelVariant(harness_kernels_supported())

    /// The variant in use: `HARNESS_KERNELS`'s when it names one this CPU supports, else
    /// `supported`. (The `harness` command refuses a bad value at start-up; see
    /// `fromEnvironment`.)
    public static let selected: KernelVariant = (try? fromEnvironment()) ?? supported

    /// The variants this CPU can run, narrowest first.
    public static var runnable: [KernelVariant] { allCases.filter { $0.rawValue <= supported.rawValue } }

    /// `HARNESS_KERNELS`'s variant; nil when it is unset or empty.
    /// - Throws: `KernelVariantError` for a name that is no variant, or one this CPU lacks.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelVariant? {
        guard let name = environment[environmentKey], !name.isEmpty else { return nil }
        let runnable = runnable.map(\.description).joined(separator: ", ")
        guard let variant = KernelVariant(name: name) else {
            throw KernelVariantError("\(environmentKey)=\(name) is not a kernel variant: expected one of \(allCases.map(\.description).joined(separator: ", ")); this CPU runs \(runnable)")
        }
        guard variant.rawValue <= supported.rawValue else {
            throw KernelVariantError("\(environmentKey)=\(name): this CPU lacks its instructions; it runs \(runnable)")
        }
        return variant
    }

    public static let environmentKey = "HARNESS_KERNELS"

    public init?(name: String) {
        let value = harness_kernels_parse(name)
        guard value >= 0 else { return nil }
        self.init(rawValue: Int(value))
    }

    init(_ value: harness_kernels) { self = KernelVariant(rawValue: Int(value.rawValue)) ?? .generic }

    @usableFromInline var c: harness_kernels { harness_kernels(rawValue: UInt32(rawValue)) }

    /// "generic", "avx2" or "avx512".
    public var description: String { String(cString: harness_kernels_name(c)) }

    /// Columns per packed panel: two of the variant's vectors of `T`.
    public func panelWidth<T: Scalar>(_: T.Type) -> Int {
        T.self == Float.self ? harness_packed_width_f32(c) : harness_packed_width_f64(c)
    }
}

/// A `HARNESS_KERNELS` value the harness cannot use, in words.
public struct KernelVariantError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
