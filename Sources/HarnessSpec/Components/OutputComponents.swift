import HarnessModel

extension Component where Product == any OutputComponent {
    /// `softmax`: the full softmax over the vocabulary.
    static let softmax = Component("softmax", summary: "full softmax over the vocabulary") { r in
        SoftmaxComponent(tieWeights: r.bool("tie_weights", default: false, doc: "share W with the word embedding"),
                         biasInit: biasInit(r))
    }

    /// `bias_init`, the output bias's start (`BiasInit`).
    private static func biasInit(_ r: MappingReader) -> BiasInit {
        r.choice("bias_init", default: BiasInit.zeros, doc: "the bias's start: zeros (bilm-tf) or uniform in ±model.init_scale (the PyTorch peer)")
    }

    /// `sampled-softmax`: log-uniform negatives shared by the batch; full softmax in evaluation.
    static let sampledSoftmax = Component("sampled-softmax",
                                          summary: "sampled softmax, log-uniform negatives drawn per step and direction (Jean et al. 2015)") { r in
        SampledSoftmaxComponent(samples: r.int("samples", default: 8192, range: 1...Int.max, doc: "distinct negatives per step"),
                                tieWeights: r.bool("tie_weights", default: false, doc: "share W with the word embedding"),
                                biasInit: biasInit(r))
    }
}
