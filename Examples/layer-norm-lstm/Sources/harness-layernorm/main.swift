import HarnessCommandLine
import HarnessComponents
import LayerNormLSTM

// The stock `harness` command line with one more recurrent component: every command
// (run, sweep, report, check, components, embed, …) sees `lstm-layernorm` as a built-in.
Harness.main(registering: ComponentSet(recurrent: [LayerNormLSTMComponent.registryEntry]))
