import HarnessData
import HarnessModel

/// Components a researcher's package adds to the built-in ones, by kind: each a
/// `Component` (its `type:` name, a summary, and how it reads its keys into the
/// product), registered with `Registries.register` or `Harness.main(registering:)`.
///
///     Harness.main(registering: ComponentSet(recurrent: [LayerNormLSTMComponent.registryEntry]))
public struct ComponentSet {
    public var tokenEncoders: [Component<any TokenEncoderComponent>]
    public var recurrent: [Component<any RecurrentComponent>]
    public var outputs: [Component<any OutputComponent>]
    public var dropouts: [Component<any DropoutComponent>]
    public var optimizers: [Component<any OptimizerComponent>]
    public var schedules: [Component<any ScheduleComponent>]
    public var batchings: [Component<any BatchingComponent>]
    public var clippings: [Component<(any GradientClipping)?>]

    public init(tokenEncoders: [Component<any TokenEncoderComponent>] = [], recurrent: [Component<any RecurrentComponent>] = [],
                outputs: [Component<any OutputComponent>] = [], dropouts: [Component<any DropoutComponent>] = [],
                optimizers: [Component<any OptimizerComponent>] = [], schedules: [Component<any ScheduleComponent>] = [],
                batchings: [Component<any BatchingComponent>] = [], clippings: [Component<(any GradientClipping)?>] = []) {
        self.tokenEncoders = tokenEncoders
        self.recurrent = recurrent
        self.outputs = outputs
        self.dropouts = dropouts
        self.optimizers = optimizers
        self.schedules = schedules
        self.batchings = batchings
        self.clippings = clippings
    }
}
