import HarnessModel
@testable import HarnessSpec
import Testing

/// A package's components (`Registries.register`) are refused, with nothing registered,
/// when a name is taken or would not read back from a resolved spec. (Only refusals are
/// tested here: a registration that succeeds changes the process's registries for every
/// test; the example package tests that path, `ExamplePackageTests`.)
struct RegistrationTests {
    private func entry(_ type: String) -> Component<any RecurrentComponent> {
        Component(type, summary: "a test component") { _ in LSTMComponent(layers: 1, hiddenSize: 4) }
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

    @Test(arguments: ["", "my lstm: x", "-lstm", "lstm/2", "lstm#", "é"])
    func aNameThatWouldNotReadBackIsRefused(name: String) {
        #expect(throws: RegistrationError.self) { try Registries.register(ComponentSet(recurrent: [entry(name)])) }
        #expect(!Registries.recurrent.types.contains(name))
    }

    @Test func builtInNamesAreValidTypes() {
        for types in [Registries.tokenEncoder.types, Registries.recurrent.types, Registries.output.types, Registries.dropout.types,
                      Registries.optimizer.types, Registries.schedule.types, Registries.batching.types, Registries.clipping.types] {
            for type in types { #expect(Registry<Int>.isValidType(type), "\(type)") }
        }
        #expect(Registry<Int>.isValidType("lstm-layernorm") && Registry<Int>.isValidType("adam.v2_b"))
    }
}
