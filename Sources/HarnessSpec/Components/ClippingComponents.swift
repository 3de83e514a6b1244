import HarnessModel

extension Component where Product == (any GradientClipping)? {
    static let none = Component("none", summary: "no clipping") { _ in nil }

    static let value = Component("value", summary: "clamp each gradient component to ±max") { r in
        ValueClipping(limit: r.double("max", default: nil, positive: true, doc: "bound"))
    }

    static let globalNorm = Component("global-norm", summary: "rescale all gradients when their global norm exceeds max") { r in
        GlobalNormClipping(maximum: r.double("max", default: nil, positive: true, doc: "largest global norm"))
    }
}
