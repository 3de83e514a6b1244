import HarnessModel

extension Component where Product == any ScheduleComponent {
    static let constant = Component("constant", summary: "the learning rate never changes") { _ in ConstantSchedule() }

    static let decay = Component("decay", summary: "lr × factor each epoch after after_epoch (Zaremba et al. 2014)") { r in
        DecaySchedule(factor: r.double("factor", default: 0.5, range: 0...1, doc: "multiplier per epoch"),
                      afterEpoch: r.int("after_epoch", default: 4, range: 0...Int.max, doc: "last epoch at the full rate"))
    }

    static let plateau = Component("plateau", summary: "lr × factor when validation perplexity stops improving (pytorch/examples; Kim et al. 2016)") { r in
        PlateauSchedule(factor: r.double("factor", default: 0.25, range: 0...1, doc: "multiplier"),
                        patience: r.int("patience", default: 0, range: 0...Int.max, doc: "epochs without improvement tolerated"),
                        threshold: r.double("threshold", default: 0, range: 0...Double.infinity,
                                            doc: "perplexity points an epoch must improve by, more than, to count as improving (Kim et al. 2016: 1)"),
                        reference: r.choice("compare_with", default: PlateauSchedule.Reference.best,
                                            doc: "the best epoch so far, or the previous one (Kim et al. 2016)"),
                        afterEpoch: r.int("after_epoch", default: 0, range: 0...Int.max,
                                          doc: "validations up to this epoch never lower the rate (Kim et al. 2016: 2)"))
    }
}
