import HarnessKernels

/// How gradients are bounded before the update (`training.clip: {type: …}`): by value,
/// by global norm, or a researcher's own rule; `none` is no clipping at all.
///
/// Mark `apply` `@_specialize(where T == Float)`: the trainer calls it through this protocol.
public protocol GradientClipping: SpecComponent {
    /// Clips `store.gradients` in place; returns the global norm ‖g‖ before clipping.
    @discardableResult
    func apply<T: Scalar>(to store: ParameterStore<T>) -> Double
    /// Value equality across conforming types (specs compare them).
    func isEqual(to other: any GradientClipping) -> Bool
}

extension GradientClipping where Self: Equatable {
    public func isEqual(to other: any GradientClipping) -> Bool { (other as? Self) == self }
}

/// `value`: each gradient component clamped to [−limit, limit].
public struct ValueClipping: GradientClipping, Equatable {
    public var limit: Double

    public init(limit: Double) { self.limit = limit }

    public var type: String { "value" }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func apply<T: Scalar>(to store: ParameterStore<T>) -> Double {
        let norm = store.gradientNorm()
        store.forEachGradientRange { clamp($0.count, store.gradients.baseAddress! + $0.lowerBound, limit: T(limit)) }
        return norm
    }
}

/// `global-norm`: all gradients scaled by max/(‖g‖ + 1e-6) when the global norm ‖g‖
/// exceeds `maximum` (PyTorch's `clip_grad_norm_`, TensorFlow's `clip_by_global_norm`).
public struct GlobalNormClipping: GradientClipping, Equatable {
    public var maximum: Double

    public init(maximum: Double) { self.maximum = maximum }

    public var type: String { "global-norm" }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func apply<T: Scalar>(to store: ParameterStore<T>) -> Double {
        let norm = store.gradientNorm()
        if norm > maximum {
            let factor = T(maximum / (norm + 1e-6))
            store.forEachGradientRange { HarnessKernels.scale($0.count, factor, store.gradients.baseAddress! + $0.lowerBound) }
        }
        return norm
    }
}
