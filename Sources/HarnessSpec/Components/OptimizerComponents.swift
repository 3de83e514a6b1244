import HarnessModel

extension Component where Product == any OptimizerComponent {
    static let sgd = Component("sgd", summary: "stochastic gradient descent, optional momentum") { r in
        SGD.Hyperparameters(learningRate: r.double("lr", default: 1, positive: true, doc: "learning rate"),
                            momentum: r.double("momentum", default: 0, range: 0...1, exclusiveUpper: true, doc: "momentum μ"))
    }

    static let adagrad = Component("adagrad", summary: "Adagrad (Duchi et al. 2011), bilm-tf's optimizer") { r in
        Adagrad.Hyperparameters(learningRate: r.double("lr", default: 0.2, positive: true, doc: "learning rate"),
                                initialAccumulator: r.double("initial_accumulator", default: 1, range: 0...Double.infinity,
                                                             doc: "starting value of the squared-gradient sums"))
    }

    static let adam = Component("adam", summary: "Adam (Kingma & Ba 2015)") { r in
        Adam.Hyperparameters(learningRate: r.double("lr", default: 0.001, positive: true, doc: "learning rate"),
                             beta1: r.double("beta1", default: 0.9, range: 0...1, exclusiveUpper: true, doc: "first-moment decay"),
                             beta2: r.double("beta2", default: 0.999, range: 0...1, exclusiveUpper: true, doc: "second-moment decay"),
                             epsilon: r.double("epsilon", default: 1e-8, positive: true, doc: "denominator offset"))
    }
}
