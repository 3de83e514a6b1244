import HarnessCommandLine
import LayerNormLSTM

// The stock `harness` command line with one more recurrent component: every command
// (run, sweep, report, check, components, embed, …) sees `lstm-layernorm` as a built-in.
HarnessCommandLine.main(registering: ComponentSet(recurrent: [LayerNormLSTMComponent.registryEntry]))
