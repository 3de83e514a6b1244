import HarnessData
import HarnessModel

/// Every component kind and its components: the built-in ones written out (adding one to
/// the harness is one file in `Components/` and one line here), and those a researcher's
/// package adds with `register` (`Harness.main(registering:)`), which every command then
/// treats as built-in.
public enum Registries {
    public private(set) static var tokenEncoder = Registry<any TokenEncoderComponent>(kind: "token_encoder", [.word, .charCNN])
    public private(set) static var recurrent = Registry<any RecurrentComponent>(kind: "recurrent", [.lstm, .lstmProjected, .gru])
    public private(set) static var output = Registry<any OutputComponent>(kind: "output", [.softmax, .sampledSoftmax, .adaptiveSoftmax, .none])
    public private(set) static var dropout = Registry<any DropoutComponent>(kind: "dropout", [.standard, .variational, .word, .embedding, .weightDrop])
    public private(set) static var optimizer = Registry<any OptimizerComponent>(kind: "optimizer", [.sgd, .adagrad, .adam])
    public private(set) static var schedule = Registry<any ScheduleComponent>(kind: "schedule", [.constant, .decay, .plateau])
    public private(set) static var batching = Registry<any BatchingComponent>(kind: "batching", [.stream, .sentences])
    public private(set) static var clipping = Registry<(any GradientClipping)?>(kind: "clip", [.none, .value, .globalNorm])

    /// Adds `components` after the built-in ones, once, before any spec is read (specs
    /// already parsed keep what they resolved). Throws, registering nothing, when a name
    /// is not a valid `type:` or is already taken by a component of the same kind: two
    /// components must not answer to one name.
    public static func register(_ components: ComponentSet) throws {
        var (t, r, o, d, op, s, b, c) = (tokenEncoder, recurrent, output, dropout, optimizer, schedule, batching, clipping)
        try t.add(components.tokenEncoders, origin: "package's")
        try r.add(components.recurrent, origin: "package's")
        try o.add(components.outputs, origin: "package's")
        try d.add(components.dropouts, origin: "package's")
        try op.add(components.optimizers, origin: "package's")
        try s.add(components.schedules, origin: "package's")
        try b.add(components.batchings, origin: "package's")
        try c.add(components.clippings, origin: "package's")
        (tokenEncoder, recurrent, output, dropout, optimizer, schedule, batching, clipping) = (t, r, o, d, op, s, b, c)
    }

    /// (kind, [(type, summary, resolved defaults)]) for `harness components`.
    public static var catalog: [(kind: String, where: String, entries: [(type: String, summary: String, defaults: ResolvedValue)])] {
        func entries<P>(_ r: Registry<P>) -> [(type: String, summary: String, defaults: ResolvedValue)] {
            r.components.map { c in
                let reader = r.defaults(of: c.type)
                return (c.type, c.summary, reader.resolvedValue)
            }
        }
        return [
            (tokenEncoder.kind, "model.token_encoder", entries(tokenEncoder)),
            (recurrent.kind, "model.recurrent", entries(recurrent)),
            (output.kind, "model.output", entries(output)),
            (dropout.kind, "model.dropout[]", entries(dropout)),
            (optimizer.kind, "training.optimizer", entries(optimizer)),
            (schedule.kind, "training.schedule", entries(schedule)),
            (clipping.kind, "training.clip", entries(clipping)),
            (batching.kind, "data.batching", entries(batching)),
        ]
    }
}
