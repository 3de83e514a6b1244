import Foundation
@testable import HarnessReports
@testable import HarnessTraining
import Testing

/// The reports for programs, read the way their users read them: Python's `csv` module,
/// pandas and a JSON Schema validator (Debian's python3-jsonschema and python3-pandas,
/// which `tools/install-system-packages` installs), on the fixture of `ReportTests`
/// (word × 3 seeds with one failed, char-cnn × 3 seeds) and a second sweep with other axes.
struct TidyReportTests {
    static let python = "/usr/bin/python3"

    /// A second sweep in the same folder with a different axis, one seed done, one pending.
    static func secondSweep(root: String) throws -> SweepReport {
        let axes: [SweepPoint.Axis] = [.init(path: "training.optimizer", label: "adam")]
        let manifest = SweepManifest(name: "optimizers", axes: ["training.optimizer"], baseline: [:],
                                     points: [.init(id: "a1", axes: axes, seed: 1), .init(id: "a2", axes: axes, seed: 2)])
        try manifest.write(root: root)
        let directory = RunDirectory(existing: "\(root)/a1")
        try directory.create()
        try directory.write(ReportTests.result(valid: (.infinity, 80), test: 70, tokensPerSecond: 900))
        return SweepReport(manifest: manifest, root: root)
    }

    /// Runs `script` with the files as sys.argv[1...]; returns its standard output.
    static func runPython(_ script: String, _ files: [String]) throws -> String {
        let folder = temporaryFolder()
        let path = folder + "/check.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [path] + files
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: error, as: UTF8.self))")
        return String(decoding: output, as: UTF8.self)
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let path = temporaryFolder() + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func longCSVHasOneHeaderOneRowPerPointAndSeedAndNumbersOnly() throws {
        let (report, root) = try ReportTests.fixture()
        let reports = [report, try Self.secondSweep(root: root)]
        let csv = try Self.write(TidyReport.csv(reports), "long.csv")
        let out = try Self.runPython("""
            import csv, json, sys
            rows = list(csv.DictReader(open(sys.argv[1], newline="")))
            numeric = [c for c in rows[0] if c.startswith(("valid_", "test_")) or c in ("tokens_per_second", "wall_seconds", "parameters", "flops_per_token", "seed")]
            for r in rows:
                for c in numeric:
                    if r[c] != "":
                        float(r[c])   # raises on anything that is not a number
            print(json.dumps({"columns": list(rows[0]), "rows": [[r["sweep"], r["model.token_encoder"], r["training.optimizer"], r["seed"], r["status"],
                              r["error"], r["valid_ppl_forward"], r["valid_ppl_mean_of_directions"]] for r in rows]}))
            """, [csv])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let columns = try #require(parsed["columns"] as? [String])
        #expect(columns.prefix(4) == ["sweep", "group", "model.token_encoder", "training.optimizer"])
        #expect(columns.contains("valid_ppl_mean_of_directions") && !columns.contains("valid mean"))
        let rows = try #require(parsed["rows"] as? [[String]])
        #expect(rows.count == 8)   // 6 + 2: one header for both sweeps, none repeated
        #expect(rows[0] == ["fixture", "word", "", "1", "done", "", "100.0", "105.0"])
        #expect(rows[2] == ["fixture", "word", "", "3", "failed", "error: the loss became nan at step 7 of epoch 1", "", ""])
        #expect(rows[6] == ["optimizers", "", "adam", "1", "done", "", "inf", "inf"])
        #expect(rows[7] == ["optimizers", "", "adam", "2", "pending", "", "", ""])
    }

    @Test func pandasReadsBothTablesAsTypedColumns() throws {
        let (report, root) = try ReportTests.fixture()
        let reports = [report, try Self.secondSweep(root: root)]
        let long = try Self.write(TidyReport.csv(reports), "long.csv")
        let aggregate = try Self.write(TidyReport.aggregateCSV(reports), "aggregate.csv")
        let out = try Self.runPython("""
            import sys, pandas as pd
            long, agg = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
            assert len(long) == 8 and list(long["sweep"]) == ["fixture"] * 6 + ["optimizers"] * 2, long
            for c in ["valid_ppl_forward", "valid_ppl_mean_of_directions", "test_ppl_mean_of_directions", "tokens_per_second", "parameters"]:
                assert pd.api.types.is_float_dtype(long[c]) or pd.api.types.is_integer_dtype(long[c]), (c, long[c].dtype)
            word = agg[(agg["sweep"] == "fixture") & (agg["model.token_encoder"] == "word")].iloc[0]
            char = agg[(agg["sweep"] == "fixture") & (agg["model.token_encoder"] == "char-cnn")].iloc[0]
            print(word["valid_ppl_mean_of_directions_mean"], round(word["valid_ppl_mean_of_directions_std"] ** 2, 9),
                  word["valid_ppl_mean_of_directions_n"], word["failed"], word["delta_valid_ppl_mean_of_directions"],
                  char["valid_ppl_mean_of_directions_std"], bool(char["is_baseline"]), len(agg))
            """, [long, aggregate])
        // word: seeds 105 and 109 → 107 ± √8 over n = 2, one failed, +12 against char's 95 ± 4.
        #expect(out == "107.0 8.0 2 1 12.0 4.0 True 3\n")
    }

    @Test func jsonHasOneSchemaWhateverTheNumberOfSweeps() throws {
        let (report, root) = try ReportTests.fixture()
        let schema = packageRoot.appendingPathComponent("docs/report.schema.json").path
        let one = try Self.write(TidyReport.json([report], provenance: ReportTests.provenance), "one.json")
        let two = try Self.write(TidyReport.json([report, try Self.secondSweep(root: root)], provenance: ReportTests.provenance), "two.json")
        let out = try Self.runPython("""
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            for path in sys.argv[2:]:
                jsonschema.validate(json.load(open(path)), schema, cls=jsonschema.Draft202012Validator)
            two = json.load(open(sys.argv[3]))
            failed = [p for p in two["sweeps"][0]["points"] if p["status"] == "failed"][0]
            diverged = two["sweeps"][1]["points"][0]
            print(json.dumps([len(json.load(open(sys.argv[2]))["sweeps"]), len(two["sweeps"]), failed["error"],
                              failed["measures"]["validPplMeanOfDirections"], diverged["measures"]["validPplForward"],
                              diverged["measures"]["validPplBackward"], two["provenance"]["runsRead"],
                              two["sweeps"][0]["groups"][1]["measures"]["validPplMeanOfDirections"]]))
            """, [schema, one, two])
        // JSON numbers: 95.0 may be written 95, which Python reads as an int (a number either way).
        #expect(out == "[1, 2, \"error: the loss became nan at step 7 of epoch 1\", null, null, 80, 7, {\"mean\": 95, \"n\": 3, \"std\": 4}]\n")
    }

    /// The validator is not vacuous: a document missing a required field fails.
    @Test func theSchemaRejectsAReportWithoutProvenance() throws {
        let (report, _) = try ReportTests.fixture()
        let schema = packageRoot.appendingPathComponent("docs/report.schema.json").path
        let document = try Self.write(TidyReport.json([report], provenance: ReportTests.provenance), "report.json")
        let out = try Self.runPython("""
            import json, sys, jsonschema
            schema, document = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
            del document["provenance"]
            try:
                jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
                print("accepted")
            except jsonschema.ValidationError as error:
                print("rejected:", error.message)
            """, [schema, document])
        #expect(out == "rejected: 'provenance' is a required property\n")
    }

    /// Damaged run records are named, in words, and counted as unreadable, not pending.
    @Test func damagedRunRecordsAreUnreadableWithAReason() throws {
        let root = temporaryFolder()
        let axes: [SweepPoint.Axis] = [.init(path: "training.optimizer", label: "adam")]
        let manifest = SweepManifest(name: "damaged", axes: ["training.optimizer"], baseline: [:],
                                     points: [.init(id: "d1", axes: axes, seed: 1), .init(id: "d2", axes: axes, seed: 2)])
        try manifest.write(root: root)
        try RunDirectory(existing: "\(root)/d1").create()
        try "[]".write(toFile: "\(root)/d1/result.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "\(root)/d2/failed.json", withIntermediateDirectories: true)
        let report = SweepReport(manifest: manifest, root: root)
        #expect(report.points.map(\.status) == [.unreadable, .unreadable])
        #expect(report.unreadable == ["\(root)/d1/result.json: error: not a valid result.json (expected an object at the top level)",
                                      "\(root)/d2/failed.json: error: not a valid failed.json"])
    }
}
