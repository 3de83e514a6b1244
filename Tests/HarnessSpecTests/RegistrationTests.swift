import HarnessKernels
import HarnessModel
@testable import HarnessSpec
import Testing

/// A package's components (`Registries.register`) are refused, with nothing registered,
/// when a name is taken or would not read back from a resolved spec. (Only refusals are
/// tested here: a registration that succeeds changes the process's registries for every
/// test; the example package tests that path, `ExamplePackageTests`.)
struct RegistrationTests {
    /// A plain LSTM under another name, reporting that name.
    private struct Renamed: RecurrentComponent, Equatable {
        var type: String
        var lstm = LSTMComponent(layers: 1, hiddenSize: 4)
        var layers: Int { lstm.layers }
        var residual: Bool { lstm.residual }
        var outputSize: Int { lstm.outputSize }
        var supportsWeightDrop: Bool { false }
        func makeLayer<T: Scalar>(_ name: String, index: Int, inputSize: Int, weightDrop: Double, initScale: Double) -> any RecurrentLayer<T> {
            lstm.makeLayer(name, index: index, inputSize: inputSize, weightDrop: weightDrop, initScale: initScale)
        }
        func multiplyAdds(inputSize: Int) -> Int { lstm.multiplyAdds(inputSize: inputSize) }
    }

    private func entry(_ type: String) -> Component<any RecurrentComponent> {
        Component(type, summary: "a test component") { _ in Renamed(type: type) }
    }

    @Test func aNameTakenByABuiltInIsRefusedNamingBoth() {
        let before = Registries.recurrent.types
        #expect {
            try Registries.register(ComponentSet(recurrent: [entry("lstm-ok"), entry("lstm")]))
        } throws: { error in
            "\(error)" == "error: cannot register the package's recurrent component 'lstm' (a test component): the name is taken "
                + "by 'plain LSTM layers (Hochreiter & Schmidhuber 1997)'; taken recurrent names: lstm, lstm-projected, gru"
        }
        #expect(Registries.recurrent.types == before, "nothing registered, not even the valid first entry")
    }

    @Test func aNameTwiceInOneSetIsRefused() {
        #expect(throws: RegistrationError.self) { try Registries.register(ComponentSet(recurrent: [entry("twin"), entry("twin")])) }
        #expect(!Registries.recurrent.types.contains("twin"))
    }

    @Test func aComponentThatReportsAnotherTypeIsRefused() {
        // The entry answers to 'lstm-other' but builds an LSTMComponent, whose type is 'lstm'.
        let mislabelled = Component<any RecurrentComponent>("lstm-other", summary: "a test component") { _ in LSTMComponent(layers: 1, hiddenSize: 4) }
        #expect {
            try Registries.register(ComponentSet(recurrent: [mislabelled]))
        } throws: { error in
            "\(error)".hasSuffix("component 'lstm-other' (a test component): it reports its type as 'lstm'; its `type` must be the name it is registered under")
        }
        #expect(!Registries.recurrent.types.contains("lstm-other"))
    }

    @Test(arguments: ["", "my lstm: x", "-lstm", "lstm/2", "lstm#", "é"])
    func aNameThatWouldNotReadBackIsRefused(name: String) {
        #expect(throws: RegistrationError.self) { try Registries.register(ComponentSet(recurrent: [entry(name)])) }
        #expect(!Registries.recurrent.types.contains(name))
    }

    /// The checks are the registry's, whatever the kind: an optimizer and a clipping too.
    @Test func otherKindsRefuseTakenAndMislabelledNames() {
        let adam = Registries.optimizer.components.first { $0.type == "adam" }!
        #expect(throws: RegistrationError.self) {
            try Registries.register(ComponentSet(optimizers: [Component("adam", summary: "a second adam", make: adam.make)]))
        }
        #expect(throws: RegistrationError.self) {
            try Registries.register(ComponentSet(optimizers: [Component("adam-v2", summary: "adam under another name", make: adam.make)]))
        }
        let norm = Registries.clipping.components.first { $0.type == "global-norm" }!
        #expect(throws: RegistrationError.self) {
            try Registries.register(ComponentSet(clippings: [Component("global norm", summary: "a space", make: norm.make)]))
        }
        #expect(!Registries.optimizer.types.contains("adam-v2") && Registries.optimizer.types.filter { $0 == "adam" }.count == 1)
        #expect(!Registries.clipping.types.contains("global norm"))
    }

    @Test func builtInNamesAreValidTypes() {
        for types in [Registries.tokenEncoder.types, Registries.recurrent.types, Registries.output.types, Registries.dropout.types,
                      Registries.optimizer.types, Registries.schedule.types, Registries.batching.types, Registries.clipping.types] {
            for type in types { #expect(Registry<Int>.isValidType(type), "\(type)") }
        }
        #expect(Registry<Int>.isValidType("lstm-layernorm") && Registry<Int>.isValidType("adam.v2_b"))
    }
}
