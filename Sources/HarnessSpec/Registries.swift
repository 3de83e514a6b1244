import HarnessData
import HarnessModel

/// Every component kind and its components, written out: adding a component is one
/// file in `Components/` and one line here.
public enum Registries {
    public static let tokenEncoder = Registry<any TokenEncoderComponent>(kind: "token_encoder", [.word, .charCNN])
    public static let recurrent = Registry<any RecurrentComponent>(kind: "recurrent", [.lstm, .lstmProjected, .gru])
    public static let output = Registry<any OutputComponent>(kind: "output", [.softmax, .sampledSoftmax, .adaptiveSoftmax, .none])
    public static let dropout = Registry<any DropoutComponent>(kind: "dropout", [.standard, .variational, .word, .embedding, .weightDrop])
    public static let optimizer = Registry<any OptimizerComponent>(kind: "optimizer", [.sgd, .adagrad, .adam])
    public static let schedule = Registry<any ScheduleComponent>(kind: "schedule", [.constant, .decay, .plateau])
    public static let batching = Registry<any BatchingComponent>(kind: "batching", [.stream, .sentences])
    public static let clipping = Registry<(any GradientClipping)?>(kind: "clip", [.none, .value, .globalNorm])

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
