import HarnessCommandLine

// The stock command line: the built-in components only (a researcher's own executable
// passes theirs, see Examples/layer-norm-lstm).
Harness.main()
