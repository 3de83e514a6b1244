// Everything a component needs, in one import: the kernels (`Matrix`, `Arena`, `gemm`,
// the SIMD nonlinearities), the component protocols and the model assembly (`BiLM`,
// `RecurrentStack`, `Parameter`, `StepContext`), the registries and the spec reader
// (`Component`, `MappingReader`, `Registries`, `ComponentSet`, `SpecLoader`), the data
// (`Vocabulary`, batching) and training (`Experiment`, `Trainer`).
@_exported import HarnessData
@_exported import HarnessKernels
@_exported import HarnessModel
@_exported import HarnessSpec
@_exported import HarnessTraining
