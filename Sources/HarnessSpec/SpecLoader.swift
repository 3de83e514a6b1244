import Foundation
import HarnessModel
import Yams

/// Reads an experiment spec from YAML, checking every key, type, range and combination,
/// and collecting every error before failing with all of them (`SpecErrors`).
public enum SpecLoader {
    /// Larger files are refused unread: a spec is a few hundred bytes.
    public static let maximumFileSize = 1 << 20

    /// Reads and checks the spec at `path`.
    public static func load(file path: String) throws -> ExperimentSpec {
        let origin = SourceLocation(file: path, line: 1, column: 1)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw SpecErrors([SpecError("expected a spec file, found a directory", at: origin)], source: nil) }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if size > maximumFileSize {
                throw SpecErrors([SpecError("the file has \(size) bytes; a spec is a few hundred (is this the right file?)", at: origin)],
                                 source: nil)
            }
        }
        // Read through a file handle, at most one byte past the limit: a pipe
        // (`/dev/stdin`, process substitution) has no size to check beforehand.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist"
            throw SpecErrors([SpecError("spec file \(reason)", at: origin)], source: nil)
        }
        defer { try? handle.close() }
        var data = Data()
        do {
            while data.count <= maximumFileSize, let chunk = try handle.read(upToCount: maximumFileSize + 1 - data.count), !chunk.isEmpty {
                data += chunk
            }
        } catch {
            throw SpecErrors([SpecError("cannot read the spec: \(error.localizedDescription)", at: origin)], source: nil)
        }
        if data.count > maximumFileSize {
            throw SpecErrors([SpecError("the input has more than \(maximumFileSize) bytes; a spec is a few hundred (is this the right file?)",
                                        at: origin)], source: nil)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let offset = firstInvalidUTF8(in: data)
            throw SpecErrors([SpecError("spec is not valid UTF-8 (byte offset \(offset))", at: origin)], source: nil)
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(text, file: path, defaultName: name)
    }

    /// Reads and checks spec `text`; `file` names it in messages.
    public static func parse(_ text: String, file: String, defaultName: String = "experiment") throws -> ExperimentSpec {
        let source = SpecSource(file: file, text: text)
        let origin = SourceLocation(file: file, line: 1, column: 1)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SpecErrors([yamlError(error, file: file)], source: text)
        }
        guard let root, case .mapping = root else {
            let found = root.map(MappingReader.describe) ?? "an empty file"
            throw SpecErrors([SpecError("expected a mapping with data, model and training sections, found \(found)", at: origin)],
                             source: text)
        }
        let reader = MappingReader(root, path: "", source: source, location: origin)
        let spec = read(reader, defaultName: defaultName)
        reader.finish()
        guard source.errors.isEmpty, let spec else { throw SpecErrors(source.errors, source: text) }
        return spec
    }

    // MARK: Sections

    private static func read(_ r: MappingReader, defaultName: String) -> ExperimentSpec? {
        let name = r.runName(default: defaultName, doc: "names the run directory")
        // The name is part of a run's identity whether it was written or taken from the file name.
        r.record("name", .scalar(MappingReader.quoted(name)), doc: "names the run directory", isDefault: false)
        let seed = r.int("seed", default: 1, range: 0...Int.max, doc: "seeds every random stream")
        let dataReader = r.mapping("data")
        let data = readData(dataReader)
        dataReader.finish()
        r.record("data", reader: dataReader, doc: "")
        let modelReader = r.mapping("model")
        let model = readModel(modelReader)
        modelReader.finish()
        r.record("model", reader: modelReader, doc: "")
        let trainingReader = r.mapping("training")
        let training = readTraining(trainingReader)
        trainingReader.finish()
        r.record("training", reader: trainingReader, doc: "")
        let evaluationReader = r.mapping("evaluation")
        let evaluation = readEvaluation(evaluationReader, available: [data?.valid == nil ? nil : "valid", data?.test == nil ? nil : "test"].compactMap { $0 })
        evaluationReader.finish()
        r.record("evaluation", reader: evaluationReader, doc: "")
        guard let data, let model, let training else { return nil }
        checkCombinations(r.source, data: data, model: model, training: training, evaluation: evaluation)
        return ExperimentSpec(name: name, seed: UInt64(seed), data: data, model: model, training: training,
                              evaluation: evaluation, resolved: r.resolvedValue, file: r.source.file, source: r.source.text,
                              locations: r.source.locations)
    }

    private static func readData(_ r: MappingReader) -> DataSpec? {
        let corpus = r.string("corpus", default: "", doc: "folder with train.txt, valid.txt, test.txt")
        let splits = ["train", "valid", "test"].map { readSplit(r, $0) }
        var paths = splits.map { $0.text.flatMap { $0.isEmpty ? nil : $0 } }
        if let corpus, !corpus.isEmpty {
            if paths.contains(where: { $0 != nil }) {
                r.source.error("give either 'corpus' or 'train'/'valid'/'test' paths, not both", at: r.location(of: "corpus"))
            }
            paths = ["train", "valid", "test"].map { corpus + "/" + $0 + ".txt" }
        } else if paths[0] == nil && r.node("train") == nil {
            r.source.error("missing required key 'corpus' (or 'train') in 'data'", at: r.location)
        }
        let vocabulary = r.mapping("vocabulary")
        let minCount = vocabulary.int("min_count", default: 1, range: 1...Int.max, doc: "rarer words become <unk>")
        let maxSize = vocabulary.optionalInt("max_size", range: 3...Int.max, doc: "keep the most frequent entries")
        let file = vocabulary.string("file", default: "", doc: "one token per line, most frequent first")
        vocabulary.finish()
        r.record("vocabulary", reader: vocabulary, doc: "built from train, by descending frequency")
        let maxTrain = r.optionalInt("max_train_tokens", range: 1...Int.max, doc: "read only the first N training tokens")
        let maxEval = r.optionalInt("max_eval_tokens", range: 1...Int.max, doc: "read only the first N valid/test tokens")
        let batchingReader = r.mapping("batching")
        let batching = Registries.batching.make(batchingReader, defaultType: "stream")
        r.record("batching", reader: batchingReader, doc: "")
        let evalBatch = r.optionalInt("eval_batch_size", range: 1...100_000, doc: "default: the training batch size")
        guard let batching, let train = paths[0] else { return nil }
        // A split named by `corpus` is its one file; one named by its key may be a pattern or a list.
        func files(_ index: Int, _ key: String, evaluated: [String] = []) -> [String] {
            guard let path = paths[index] else { return [] }
            return resolveShards(splits[index].entries ?? [(path, r.valueLocation(of: r.node(key) == nil ? "corpus" : key))],
                                 split: key, evaluated: evaluated, r)
        }
        let validShards = files(1, "valid"), testShards = files(2, "test")
        let shards = files(0, "train", evaluated: validShards + testShards)
        let trainNamed = splits[0].entries.map { $0.map { DataSpec.absolute($0.0) }.joined(separator: ", ") } ?? DataSpec.absolute(train)
        return DataSpec(train: trainNamed, trainShards: shards, validShards: validShards, testShards: testShards,
                        minCount: minCount, maxVocabularySize: maxSize,
                        vocabularyFile: file.flatMap { $0.isEmpty ? nil : DataSpec.absolute($0) }, maxTrainTokens: maxTrain,
                        maxEvalTokens: maxEval, batching: batching, evalBatchSize: evalBatch ?? batching.batchSize)
    }

    /// The files `patterns` name for `data.<split>`, in reading order, with a spec error
    /// (at the entry's place) for a pattern that matches nothing or a directory or an
    /// unreadable link, a file named twice (also through a symbolic link), and a training
    /// shard that is also one of the `evaluated` files.
    private static func resolveShards(_ patterns: [(String, SourceLocation)], split: String, evaluated files: [String],
                                      _ r: MappingReader) -> [String] {
        var shards: [String] = []
        var real: [String: String] = [:]   // resolved path (symbolic links followed) → as matched
        let evaluated = Set(files.map { DataSpec.resolvingLinks(DataSpec.absolute($0)) })
        for (pattern, location) in patterns {
            let isPattern = DataSpec.isPattern(pattern)
            let files = isPattern ? DataSpec.shards(DataSpec.absolute(pattern)) : [DataSpec.absolute(pattern)]
            if files.isEmpty {
                r.source.error("no file matches '\(pattern)' in 'data.\(split)'", at: location,
                               note: "a pattern takes *, ? and [...] in file names (glob(3); \\[ for a literal [), "
                                   + "relative to the folder harness runs in (\(FileManager.default.currentDirectoryPath))")
            }
            for file in files {
                var isDirectory: ObjCBool = false
                if isPattern && !(FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) && !isDirectory.boolValue) {
                    r.source.error("'\(pattern)' in 'data.\(split)' matches '\(file)', which is \(isDirectory.boolValue ? "a directory" : "not a readable file (a broken or looping symbolic link?)")",
                                   at: location)
                    continue
                }
                let resolved = DataSpec.resolvingLinks(file)
                if let first = real[resolved] {
                    r.source.error("'\(file)' is named twice in 'data.\(split)'" + (first == file ? "" : " (as '\(first)')"), at: location)
                    continue
                }
                if evaluated.contains(resolved) {
                    r.source.error("'\(file)' in 'data.train' is also the valid or test split: a model would be scored on its training text",
                                   at: location)
                }
                real[resolved] = file
                shards.append(file)
            }
        }
        return shards
    }

    /// `data.<split>`: a path, a glob pattern, or a list of them (shards). Returns the
    /// text as written (for a list: its entries joined by ", ") and, for a list, each
    /// entry with its location.
    private static func readSplit(_ r: MappingReader, _ split: String) -> (text: String?, entries: [(String, SourceLocation)]?) {
        let doc = split == "train"
            ? "train split: a file, a glob pattern (shards, read in byte order of their paths) or a list of them (in list order)"
            : "\(split) split (instead of corpus): a file, a glob pattern or a list of them, read one after the other"
        guard case .sequence = r.node(split) else { return (r.string(split, default: "", doc: doc), nil) }
        var entries: [(String, SourceLocation)] = []
        for (node, location) in r.list(split) {
            guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
                r.source.error("expected a file or a pattern in 'data.\(split)', found \(MappingReader.describe(node))", at: location)
                continue
            }
            entries.append((scalar.string, location))
        }
        if entries.isEmpty && r.list(split).isEmpty { r.source.error("'data.\(split)' lists no file", at: r.valueLocation(of: split)) }
        r.record(split, value: .list(entries.map { .scalar(MappingReader.quoted($0.0)) }), doc: doc)
        return (entries.map(\.0).joined(separator: ", "), entries)
    }

    private static func readModel(_ r: MappingReader) -> ModelSpec? {
        let direction = r.choice("direction", default: Direction.bidirectional, doc: "language models trained")
        let encoder = required("token_encoder", of: r, Registries.tokenEncoder)
        let recurrent = required("recurrent", of: r, Registries.recurrent)
        let outputReader = r.mapping("output")
        let output = Registries.output.make(outputReader, defaultType: "softmax")
        r.record("output", reader: outputReader, doc: "")
        var dropout: [any DropoutComponent] = []
        var dropoutResolved: [ResolvedValue] = []
        r.record("dropout", value: .list([]), doc: "list of {type, rate}")
        var seen: [String: SourceLocation] = [:]
        var layerInputs: String?
        var recurrentWeights: (type: String, location: SourceLocation)?
        for (index, item) in r.list("dropout").enumerated() {
            let itemReader = MappingReader(item.node, path: "model.dropout[\(index)]", source: r.source, location: item.location)
            if let d = Registries.dropout.make(itemReader) {
                if seen[d.type] != nil {
                    r.source.error("dropout '\(d.type)' is listed twice", at: item.location)
                } else if d.site == .layerInputs, let other = layerInputs {
                    r.source.error("\(other) and \(d.type) dropout act at the same places; choose one", at: item.location)
                }
                if d.site == .layerInputs && layerInputs == nil { layerInputs = d.type }
                if d.site == .recurrentWeights { recurrentWeights = (d.type, item.location) }
                seen[d.type] = item.location
                if d.rate > 0 { dropout.append(d) }
            }
            dropoutResolved.append(itemReader.resolvedValue)
        }
        r.record("dropout", value: .list(dropoutResolved), doc: "list of {type, rate}")
        let initScale = r.double("init_scale", default: 0.1, positive: true, doc: "weights start in U(-s, s)")
        guard let encoder, let recurrent, let output else { return nil }
        if !recurrent.supportsWeightDrop, let (type, location) = recurrentWeights {
            r.source.error("\(type) acts on LSTM hidden-to-hidden weights; '\(recurrent.type)' layers do not implement it", at: location)
        }
        if output.tieWeights {
            if !encoder.hasEmbeddingTable {
                r.source.error("tie_weights needs a token encoder with an embedding table, such as word ('\(encoder.type)' has none to share)",
                               at: r.source.locations["model.output.tie_weights"] ?? r.location)
            } else if encoder.outputSize != recurrent.outputSize {
                r.source.error("tie_weights needs the token encoder's size (\(encoder.outputSize)) equal to the recurrent output size "
                               + "(\(recurrent.outputSize))", at: r.source.locations["model.output.tie_weights"] ?? r.location)
            }
        }
        return ModelSpec(direction: direction, encoder: encoder, recurrent: recurrent, output: output,
                         dropout: dropout, initScale: initScale)
    }

    /// A component section without a default: missing is one error, not two.
    private static func required<P>(_ key: String, of r: MappingReader, _ registry: Registry<P>) -> P? {
        let reader = r.mapping(key)
        defer { r.record(key, reader: reader, doc: "") }
        guard r.node(key) != nil else {
            r.source.error("missing required key '\(key)' in '\(r.path)'", at: r.location)
            return nil
        }
        return registry.make(reader)
    }

    private static func readTraining(_ r: MappingReader) -> TrainingSpec? {
        let epochs = r.int("epochs", default: 10, range: 1...100_000, doc: "passes over the training data")
        let maxTokens = r.optionalInt("max_tokens", range: 1...Int.max, doc: "token budget: stop after N training targets")
        let optimizerReader = r.mapping("optimizer")
        let optimizer = Registries.optimizer.make(optimizerReader, defaultType: "adagrad")
        r.record("optimizer", reader: optimizerReader, doc: "")
        let clipReader = r.mapping("clip")
        let clipping = Registries.clipping.make(clipReader, defaultType: "none")
        r.record("clip", reader: clipReader, doc: "gradient clipping")
        let scheduleReader = r.mapping("schedule")
        let schedule = Registries.schedule.make(scheduleReader, defaultType: "constant")
        r.record("schedule", reader: scheduleReader, doc: "learning-rate schedule")
        let stopping = r.mapping("early_stopping")
        let patience = stopping.optionalInt("patience", range: 0...Int.max,
                                            doc: "epochs without validation improvement tolerated: training stops at the next one "
                                                + "(the plateau schedule's count, PyTorch's ReduceLROnPlateau's)")
        stopping.finish()
        r.record("early_stopping", reader: stopping, doc: "")
        let loss = r.choice("loss", default: LossReduction.mean, doc: "what is differentiated")
        let logEvery = r.int("log_every", default: 100, range: 1...Int.max, doc: "steps between metrics records")
        let threads = r.optionalInt("threads", range: TrainingSpec.threadRange, doc: "BLAS threads (default: all cores)")
        let checkpointReader = r.mapping("checkpoint")
        let everySteps = checkpointReader.optionalInt("every_steps", range: 1...Int.max, doc: "also checkpoint every N steps")
        let everyMinutes = checkpointReader.double("every_minutes", default: 10, range: 0...100_000,
                                                   doc: "also checkpoint every M minutes (0: only by steps and epochs)")
        checkpointReader.finish()
        r.record("checkpoint", reader: checkpointReader, doc: "resumable checkpoints (train.ckpt); not part of the run's id")
        let onNonFinite = r.choice("on_nonfinite", default: NonFiniteAction.stop,
                                   doc: "a NaN/Inf loss or gradient stops the run or skips the step")
        guard let optimizer, let clipping, let schedule else { return nil }
        return TrainingSpec(epochs: epochs, maxTokens: maxTokens, optimizer: optimizer, clipping: clipping, schedule: schedule,
                            earlyStoppingPatience: patience, loss: loss, logEvery: logEvery, threads: threads,
                            checkpoint: CheckpointPolicy(everySteps: everySteps, everyMinutes: everyMinutes == 0 ? nil : everyMinutes),
                            onNonFinite: onNonFinite)
    }

    private static func readEvaluation(_ r: MappingReader, available: [String]) -> EvaluationSpec {
        let items = r.list("splits")
        r.record("splits", value: .list(available.map { .scalar($0) }), doc: "scored with the best weights at the end")
        var splits: [String] = []
        for (node, location) in items {
            guard let s = node.string, ["valid", "test"].contains(s) else {
                r.source.error("unknown split '\(node.string ?? MappingReader.describe(node))' in 'evaluation.splits'", at: location,
                               suggestion: node.string.flatMap { nearest($0, in: ["valid", "test"]) }, note: "expected valid or test")
                continue
            }
            splits.append(s)
        }
        if r.node("splits") == nil { splits = available }
        r.record("splits", value: .list(splits.map { .scalar($0) }), doc: "scored with the best weights at the end")
        let every = r.optionalInt("every_tokens", range: 1...Int.max, doc: "also score valid every N training tokens (curves)")
        if every != nil && !available.contains("valid") {
            r.source.error("every_tokens needs a validation split (data.valid or data.corpus)", at: r.location(of: "every_tokens"))
        }
        return EvaluationSpec(splits: splits, everyTokens: every)
    }

    private static func checkCombinations(_ source: SpecSource, data: DataSpec, model: ModelSpec, training: TrainingSpec,
                                          evaluation: EvaluationSpec) {
        let root = SourceLocation(file: source.file, line: 1, column: 1)
        if data.valid == nil {
            if training.earlyStoppingPatience != nil {
                source.error("early stopping needs a validation split (data.valid or data.corpus)",
                             at: source.locations["training.early_stopping.patience"] ?? root)
            }
            if training.schedule.needsValidation {
                source.error("the \(training.schedule.type) schedule needs a validation split (data.valid or data.corpus)",
                             at: source.locations["training.schedule"] ?? root)
            }
        }
        for split in evaluation.splits where (split == "valid" ? data.valid : data.test) == nil {
            source.error("evaluation split '\(split)' has no file (data.\(split) or data.corpus)",
                         at: source.locations["evaluation.splits"] ?? root)
        }
    }

    // MARK: Helpers

    public static func yamlError(_ error: YamlError, file: String) -> SpecError {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = context.map { "\($0.text) " } ?? ""
            if problem.hasPrefix("Maximum nesting level reached") {
                return SpecError("invalid YAML: nested more than 1000 levels deep", at: at(mark))
            }
            return SpecError("invalid YAML: \(detail)\(problem)", at: at(mark))
        case let .duplicatedKeysInMapping(duplicates, context):
            return SpecError("duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
                             at: at(context.mark))
        default:
            return SpecError("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    static func firstInvalidUTF8(in data: Data) -> Int {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            var end = offset + 1
            while end <= min(bytes.count, offset + 4) {
                if String(bytes: bytes[offset..<end], encoding: .utf8) != nil { break }
                end += 1
            }
            if end > min(bytes.count, offset + 4) { return offset }
            offset = end
        }
        return offset
    }
}
