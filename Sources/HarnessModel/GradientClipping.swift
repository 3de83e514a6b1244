import HarnessKernels

/// How gradients are bounded before the update.
public enum GradientClipping: Sendable, Equatable {
    /// Each gradient component clamped to [−limit, limit].
    case value(Double)
    /// All gradients scaled by max/(‖g‖ + 1e-6) when the global norm ‖g‖ exceeds `max`
    /// (PyTorch's `clip_grad_norm_`, TensorFlow's `clip_by_global_norm`).
    case globalNorm(Double)

    /// Clips `store.gradients` in place; returns the global norm before clipping.
    @discardableResult
    public func apply<T: Scalar>(to store: ParameterStore<T>) -> Double {
        let norm = store.gradientNorm()
        let g = store.gradients.baseAddress!
        switch self {
        case .value(let limit):
            clamp(store.count, g, limit: T(limit))
        case .globalNorm(let maximum):
            if norm > maximum { HarnessKernels.scale(store.count, T(maximum / (norm + 1e-6)), g) }
        }
        return norm
    }
}
