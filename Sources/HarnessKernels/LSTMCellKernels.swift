import PackedKernels

/// The LSTM cell's fused pointwise step, one batch row of H units at a time: the gate
/// nonlinearities, the cell update and its gradient (Hochreiter & Schmidhuber 1997 with a
/// forget gate, as TensorFlow's LSTMCell and bilm-tf; optional cell clipping).
///
/// `Float` runs the C variant `variant` names (default `KernelVariant.selected`), the
/// widest the CPU supports; `Double` (gradient checks) runs `portableForward` and
/// `portableBackward`, the same operations in Swift SIMD. Every variant gives the
/// portable kernels' bits (`PointwiseKernels.h`; checked by `PointwiseKernelTests`).
///
/// Layout: `gates` (4H) holds the pre-activations [i f g o] (forward replaces them by
/// σ(i), σ(f), tanh(g), σ(o)); `cell` (H) c_t before clipping; `cellTanh` (H)
/// tanh(clip(c_t)); h_t = σ(o)·tanh(clip(c_t)). `clipPrevious`: clip c_{t−1} too (every
/// step but the first, whose initial state is not clipped).
public enum LSTMCellKernels {
    @inlinable
    public static func forward<T: Scalar>(hidden h: Int, gates: UnsafeMutablePointer<T>, previousCell: UnsafePointer<T>,
                                          clipPrevious: Bool, cellClip: T?, cell: UnsafeMutablePointer<T>,
                                          cellTanh: UnsafeMutablePointer<T>, hiddenOut: UnsafeMutablePointer<T>,
                                          variant: KernelVariant? = nil) {
        if T.self == Float.self {
            harness_lstm_cell_forward_f32((variant ?? .selected).c, h, floats(gates), floats(previousCell), clipPrevious ? 1 : 0,
                                          cellClip == nil ? 0 : 1, cellClip.map { Float($0) } ?? 0, floats(cell), floats(cellTanh),
                                          floats(hiddenOut))
        } else {
            portableForward(hidden: h, gates: gates, previousCell: previousCell, clipPrevious: clipPrevious, cellClip: cellClip,
                            cell: cell, cellTanh: cellTanh, hiddenOut: hiddenOut)
        }
    }

    /// From the activations `forward` left: `dHidden` = ∂L/∂h_t; `dCell` carries ∂L/∂c_t
    /// from t+1 in and ∂L/∂c_{t−1} out; writes `dGates` (4H), ∂L/∂ the pre-activations.
    @inlinable
    public static func backward<T: Scalar>(hidden h: Int, gates: UnsafePointer<T>, cell: UnsafePointer<T>,
                                           cellTanh: UnsafePointer<T>, previousCell: UnsafePointer<T>, clipPrevious: Bool,
                                           cellClip: T?, dHidden: UnsafePointer<T>, dCell: UnsafeMutablePointer<T>,
                                           dGates: UnsafeMutablePointer<T>, variant: KernelVariant? = nil) {
        if T.self == Float.self {
            harness_lstm_cell_backward_f32((variant ?? .selected).c, h, floats(gates), floats(cell), floats(cellTanh), floats(previousCell),
                                           clipPrevious ? 1 : 0, cellClip == nil ? 0 : 1, cellClip.map { Float($0) } ?? 0,
                                           floats(dHidden), floats(dCell), floats(dGates))
        } else {
            portableBackward(hidden: h, gates: gates, cell: cell, cellTanh: cellTanh, previousCell: previousCell,
                             clipPrevious: clipPrevious, cellClip: cellClip, dHidden: dHidden, dCell: dCell, dGates: dGates)
        }
    }

    /// `forward` in Swift SIMD (16 Float or 8 Double lanes).
    @inlinable
    public static func portableForward<T: Scalar>(hidden h: Int, gates: UnsafeMutablePointer<T>, previousCell: UnsafePointer<T>,
                                                  clipPrevious: Bool, cellClip: T?, cell: UnsafeMutablePointer<T>,
                                                  cellTanh: UnsafeMutablePointer<T>, hiddenOut: UnsafeMutablePointer<T>) {
        let previousCell = UnsafeMutablePointer(mutating: previousCell), w = T.Vector.scalarCount
        func clipped(_ v: T.Vector) -> T.Vector { cellClip.map { T.clamp(v, limit: $0) } ?? v }
        var j = 0
        while j < h {
            let lanes = min(w, h - j)
            let i = T.sigmoid(gates.vector(at: j, lanes: lanes))
            let f = T.sigmoid(gates.vector(at: h + j, lanes: lanes))
            let g = T.tanh(gates.vector(at: 2 * h + j, lanes: lanes))
            let o = T.sigmoid(gates.vector(at: 3 * h + j, lanes: lanes))
            gates.setVector(i, at: j, lanes: lanes)
            gates.setVector(f, at: h + j, lanes: lanes)
            gates.setVector(g, at: 2 * h + j, lanes: lanes)
            gates.setVector(o, at: 3 * h + j, lanes: lanes)
            var previous = previousCell.vector(at: j, lanes: lanes)
            if clipPrevious { previous = clipped(previous) }
            let raw = f * previous + i * g
            cell.setVector(raw, at: j, lanes: lanes)
            let tc = T.tanh(clipped(raw))
            cellTanh.setVector(tc, at: j, lanes: lanes)
            hiddenOut.setVector(o * tc, at: j, lanes: lanes)
            j += w
        }
    }

    /// `backward` in Swift SIMD.
    @inlinable
    public static func portableBackward<T: Scalar>(hidden h: Int, gates: UnsafePointer<T>, cell: UnsafePointer<T>,
                                                   cellTanh: UnsafePointer<T>, previousCell: UnsafePointer<T>, clipPrevious: Bool,
                                                   cellClip: T?, dHidden: UnsafePointer<T>, dCell: UnsafeMutablePointer<T>,
                                                   dGates: UnsafeMutablePointer<T>) {
        let gates = UnsafeMutablePointer(mutating: gates), cell = UnsafeMutablePointer(mutating: cell)
        let cellTanh = UnsafeMutablePointer(mutating: cellTanh), previousCell = UnsafeMutablePointer(mutating: previousCell)
        let dHidden = UnsafeMutablePointer(mutating: dHidden)
        let w = T.Vector.scalarCount, one = T.Vector(repeating: 1)
        var j = 0
        while j < h {
            let lanes = min(w, h - j)
            let i = gates.vector(at: j, lanes: lanes), f = gates.vector(at: h + j, lanes: lanes)
            let g = gates.vector(at: 2 * h + j, lanes: lanes), o = gates.vector(at: 3 * h + j, lanes: lanes)
            let tc = cellTanh.vector(at: j, lanes: lanes)
            let dh = dHidden.vector(at: j, lanes: lanes)
            var dc = dCell.vector(at: j, lanes: lanes) + dh * o * (one - tc * tc)
            if let cellClip { dc = T.zeroWhereClamped(dc, input: cell.vector(at: j, lanes: lanes), limit: cellClip) }
            var previous = previousCell.vector(at: j, lanes: lanes)
            if clipPrevious, let cellClip { previous = T.clamp(previous, limit: cellClip) }
            dGates.setVector(dc * g * i * (one - i), at: j, lanes: lanes)
            dGates.setVector(dc * previous * f * (one - f), at: h + j, lanes: lanes)
            dGates.setVector(dc * i * (one - g * g), at: 2 * h + j, lanes: lanes)
            dGates.setVector(dh * tc * o * (one - o), at: 3 * h + j, lanes: lanes)
            dCell.setVector(dc * f, at: j, lanes: lanes)
            j += w
        }
    }
}

