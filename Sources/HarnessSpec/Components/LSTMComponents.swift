import HarnessModel

extension Component where Product == any RecurrentComponent {
    /// `lstm`: plain LSTM layers.
    static let lstm = Component("lstm", summary: "plain LSTM layers (Hochreiter & Schmidhuber 1997)") { r in
        LSTMComponent(
            layers: r.int("layers", default: 2, range: 1...16, doc: "stacked layers"),
            hiddenSize: r.int("hidden", default: nil, range: 1...65_536, doc: "cell size H"),
            // TensorFlow's LSTMCell without num_proj clips too: bilm-tf's LSTMs when projection_dim >= dim.
            cellClip: r.optionalDouble("cell_clip", positive: true, doc: "clamp the cell state to ±cell_clip"),
            residual: r.bool("residual", default: false, doc: "add each layer's input from layer 2 on"),
            forgetBias: r.forgetBias(), biasInit: r.lstmBiasInit(), recurrentBias: r.recurrentBias())
    }

    /// `lstm-projected`: LSTMP with cell and projection clipping, as ELMo.
    static let lstmProjected = Component("lstm-projected",
                                         summary: "LSTM with output projection, cell clip and projection clip (LSTMP, ELMo)") { r in
        LSTMComponent(
            layers: r.int("layers", default: 2, range: 1...16, doc: "stacked layers"),
            hiddenSize: r.int("hidden", default: nil, range: 1...65_536, doc: "cell size H"),
            projectionSize: r.int("projection", default: nil, range: 1...65_536, doc: "projection size P"),
            cellClip: r.optionalDouble("cell_clip", positive: true, doc: "clamp the cell state to ±cell_clip"),
            projectionClip: r.optionalDouble("proj_clip", positive: true, doc: "clamp the projection to ±proj_clip"),
            residual: r.bool("residual", default: true, doc: "add each layer's input from layer 2 on"),
            forgetBias: r.forgetBias(), biasInit: r.lstmBiasInit(), recurrentBias: r.recurrentBias())
    }
}

extension MappingReader {
    /// `forget_bias`, shared by both LSTM kinds.
    func forgetBias() -> Double {
        double("forget_bias", default: 1, range: -10...10,
               doc: "initial forget-gate bias (1: TensorFlow, bilm-tf; PyTorch's nn.LSTM starts near 0)")
    }

    /// `bias_init`, shared by both LSTM kinds.
    func lstmBiasInit() -> BiasInit {
        choice("bias_init", default: BiasInit.zeros,
               doc: "the biases' start besides forget_bias: zeros (bilm-tf) or uniform in ±model.init_scale (PyTorch's peer, Torch's LSTMs)")
    }

    /// `recurrent_bias`, shared by both LSTM kinds.
    func recurrentBias() -> Bool {
        bool("recurrent_bias", default: false,
             doc: "a second gate bias on the recurrent product, trained alongside the first (PyTorch's nn.LSTM bias_hh, "
                 + "the h2h of Torch's LSTMs: Zaremba's, Kim's); the two sum, and move twice as fast under SGD")
    }
}
