import Foundation
@testable import HarnessTraining
import Testing

/// Files that are damaged, odd or out of reach, through the `harness` binary: each gets
/// a clear message and exit code, or documented handling; none a crash.
@Suite(.serialized)
struct HostileInputTests {
    @Test func aDamagedTrainingCheckpointIsNamedAndFreshStartsOver() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("stream"), to: spec)
        #expect(try ResumeTests.runAndSignal(spec, runs: folder + "/runs", afterStep: 20, signal: SIGINT).status == 130)
        let checkpoint = try #require(ResumeTests.trainingCheckpoint(in: folder + "/runs"))
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: checkpoint)))
        bytes[bytes.count / 3] ^= 0x40
        _ = FileManager.default.createFile(atPath: checkpoint, contents: Data(bytes))
        let damaged = try runHarness(["run", spec, "--runs", folder + "/runs"])
        #expect(damaged.status == 1)
        #expect(damaged.error.hasSuffix("\(checkpoint): error: cannot use this checkpoint: checksum mismatch (truncated or corrupted file); --fresh starts the run over\n"),
                "\(damaged.error)")
        _ = FileManager.default.createFile(atPath: checkpoint, contents: Data(bytes.prefix(1000)))
        #expect(try runHarness(["run", spec, "--runs", folder + "/runs"]).error.contains("checksum mismatch (truncated or corrupted file)"))
        _ = FileManager.default.createFile(atPath: checkpoint, contents: Data("PK\u{3}\u{4} a zip file, not a checkpoint".utf8))
        #expect(try runHarness(["run", spec, "--runs", folder + "/runs"]).error.contains("not a harness checkpoint (bad magic)"))
        let fresh = try runHarness(["run", spec, "--runs", folder + "/runs", "--fresh", "--quiet"])
        #expect(fresh.status == 0, "\(fresh.error)")
    }

    /// CRLF line ends, a line of 300,000 tokens and a token of 200,000 bytes train like
    /// any text: the long line is cut into pieces, the char-CNN keeps a long word's first
    /// max_characters − 2 bytes (as bilm-tf), and \r is whitespace.
    @Test func crlfHugeLinesAndHugeTokensTrain() throws {
        let folder = temporaryFolder(), corpus = folder + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let words = ["the", "cat", "sat", "on", "a", "mat", "."]
        let hugeLine = (0..<300_000).map { words[$0 % words.count] }.joined(separator: " ")
        let train = "the cat sat\r\non the mat .\r\n" + hugeLine + "\r\n" + String(repeating: "z", count: 200_000) + " end\r\n"
        ResumeTests.write(train, to: corpus + "/train.txt")
        ResumeTests.write("the cat sat on a mat .\r\n", to: corpus + "/valid.txt")
        ResumeTests.write("a cat .\r\n", to: corpus + "/test.txt")
        let spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("sentences", corpus: corpus).replacingOccurrences(of: "epochs: 30", with: "epochs: 1"), to: spec)
        let run = try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"])
        #expect(run.status == 0, "\(run.error)")
        let vocabulary = try String(contentsOfFile: folder + "/runs/" + FileManager.default.contentsOfDirectory(atPath: folder + "/runs")[0]
                                    + "/vocabulary.txt", encoding: .utf8).split(separator: "\n")
        #expect(!vocabulary.contains { $0.contains("\r") })
        #expect(vocabulary.contains { $0.count == 200_000 })
    }

    /// Tests run as root, who reads any file; as `nobody`, a mode-000 corpus is refused.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && getuid() == 0))
    func anUnreadableCorpusIsNamed() throws {
        let folder = temporaryFolder(), corpus = folder + "/corpus"
        try FileManager.default.copyItem(atPath: packageRoot.path + "/Tests/Fixtures/tiny-corpus", toPath: corpus)
        chmod(corpus + "/train.txt", 0)
        let spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("stream", corpus: corpus), to: spec)
        for path in [folder, corpus, spec] { chmod(path, 0o755) }
        chmod(spec, 0o644)
        let r = try runHarness(["--reuid=65534", "--regid=65534", "--clear-groups", CommandLineTests.harness, "run", spec,
                                "--runs", folder + "/runs"], executable: "/usr/bin/setpriv")
        #expect(r.status == 65)
        #expect(r.error.hasPrefix("\(corpus)/train.txt: error: file is not readable"), "\(r.error)")
    }
}
