import PackedKernels

/// The GRU cell's fused pointwise step, one batch row of H units at a time, as PyTorch's
/// `nn.GRU` computes it (Cho et al. 2014): r = σ(x_r + h_r), z = σ(x_z + h_z),
/// n = tanh(x_n + r ⊙ h_n), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
///
/// `Float` runs the C variant `variant` names (default `KernelVariant.selected`); `Double`
/// runs `portableForward`/`portableBackward` in Swift SIMD, whose bits every variant gives.
///
/// Layout: `gates` (3H) the input pre-activations [r z n]ₓ (forward replaces them by r,
/// z, n); `hiddenGates` (3H) the recurrent ones [r z n]ₕ; `hiddenN` (H) keeps h_n.
public enum GRUCellKernels {
    @inlinable
    public static func forward<T: Scalar>(hidden h: Int, gates: UnsafeMutablePointer<T>, hiddenGates: UnsafePointer<T>,
                                          hiddenN: UnsafeMutablePointer<T>, previous: UnsafePointer<T>,
                                          output: UnsafeMutablePointer<T>, variant: KernelVariant? = nil) {
        if T.self == Float.self {
            harness_gru_cell_forward_f32((variant ?? .selected).c, h, floats(gates), floats(hiddenGates), floats(hiddenN),
                                         floats(previous), floats(output))
        } else {
            portableForward(hidden: h, gates: gates, hiddenGates: hiddenGates, hiddenN: hiddenN, previous: previous, output: output)
        }
    }

    /// `dOutput` = ∂L/∂h_t (complete); adds ∂L/∂h_{t−1} through z into `dPrevious` (when
    /// given) and writes ∂L/∂ the input and the recurrent pre-activations (3H each).
    @inlinable
    public static func backward<T: Scalar>(hidden h: Int, gates: UnsafePointer<T>, hiddenN: UnsafePointer<T>,
                                           previous: UnsafePointer<T>, dOutput: UnsafePointer<T>,
                                           dPrevious: UnsafeMutablePointer<T>?, dInputGates: UnsafeMutablePointer<T>,
                                           dHiddenGates: UnsafeMutablePointer<T>, variant: KernelVariant? = nil) {
        if T.self == Float.self {
            harness_gru_cell_backward_f32((variant ?? .selected).c, h, floats(gates), floats(hiddenN), floats(previous),
                                          floats(dOutput), dPrevious.map { floats($0) }, floats(dInputGates), floats(dHiddenGates))
        } else {
            portableBackward(hidden: h, gates: gates, hiddenN: hiddenN, previous: previous, dOutput: dOutput,
                             dPrevious: dPrevious, dInputGates: dInputGates, dHiddenGates: dHiddenGates)
        }
    }

    /// `forward` in Swift SIMD (16 Float or 8 Double lanes).
    @inlinable
    public static func portableForward<T: Scalar>(hidden h: Int, gates: UnsafeMutablePointer<T>, hiddenGates: UnsafePointer<T>,
                                                  hiddenN: UnsafeMutablePointer<T>, previous: UnsafePointer<T>,
                                                  output: UnsafeMutablePointer<T>) {
        let hiddenGates = UnsafeMutablePointer(mutating: hiddenGates), previous = UnsafeMutablePointer(mutating: previous)
        let w = T.Vector.scalarCount, one = T.Vector(repeating: 1)
        var j = 0
        while j < h {
            let lanes = min(w, h - j)
            let r = T.sigmoid(gates.vector(at: j, lanes: lanes) + hiddenGates.vector(at: j, lanes: lanes))
            let z = T.sigmoid(gates.vector(at: h + j, lanes: lanes) + hiddenGates.vector(at: h + j, lanes: lanes))
            let hn = hiddenGates.vector(at: 2 * h + j, lanes: lanes)
            let n = T.tanh(gates.vector(at: 2 * h + j, lanes: lanes) + r * hn)
            gates.setVector(r, at: j, lanes: lanes)
            gates.setVector(z, at: h + j, lanes: lanes)
            gates.setVector(n, at: 2 * h + j, lanes: lanes)
            hiddenN.setVector(hn, at: j, lanes: lanes)
            output.setVector((one - z) * n + z * previous.vector(at: j, lanes: lanes), at: j, lanes: lanes)
            j += w
        }
    }

    /// `backward` in Swift SIMD.
    @inlinable
    public static func portableBackward<T: Scalar>(hidden h: Int, gates: UnsafePointer<T>, hiddenN: UnsafePointer<T>,
                                                   previous: UnsafePointer<T>, dOutput: UnsafePointer<T>,
                                                   dPrevious: UnsafeMutablePointer<T>?, dInputGates: UnsafeMutablePointer<T>,
                                                   dHiddenGates: UnsafeMutablePointer<T>) {
        let gates = UnsafeMutablePointer(mutating: gates), hiddenN = UnsafeMutablePointer(mutating: hiddenN)
        let previous = UnsafeMutablePointer(mutating: previous), dOutput = UnsafeMutablePointer(mutating: dOutput)
        let w = T.Vector.scalarCount, one = T.Vector(repeating: 1)
        var j = 0
        while j < h {
            let lanes = min(w, h - j)
            let r = gates.vector(at: j, lanes: lanes), z = gates.vector(at: h + j, lanes: lanes), n = gates.vector(at: 2 * h + j, lanes: lanes)
            let dh = dOutput.vector(at: j, lanes: lanes)
            let dnPre = dh * (one - z) * (one - n * n)
            let dzPre = dh * (previous.vector(at: j, lanes: lanes) - n) * z * (one - z)
            let drPre = dnPre * hiddenN.vector(at: j, lanes: lanes) * r * (one - r)
            dInputGates.setVector(drPre, at: j, lanes: lanes)
            dInputGates.setVector(dzPre, at: h + j, lanes: lanes)
            dInputGates.setVector(dnPre, at: 2 * h + j, lanes: lanes)
            dHiddenGates.setVector(drPre, at: j, lanes: lanes)
            dHiddenGates.setVector(dzPre, at: h + j, lanes: lanes)
            dHiddenGates.setVector(dnPre * r, at: 2 * h + j, lanes: lanes)
            if let dPrevious { dPrevious.setVector(dPrevious.vector(at: j, lanes: lanes) + dh * z, at: j, lanes: lanes) }
            j += w
        }
    }
}
