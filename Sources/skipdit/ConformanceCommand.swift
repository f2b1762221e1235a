// skipdit conformance SUITE DIR — run every case of a golden fixture directory through the real
// code path; one line per case; exit 0 only if all pass.

import ArgumentParser
import Conformance
import Foundation
import TensorCore

extension ConformanceSuite: ExpressibleByArgument {}
extension ToleranceLevel: ExpressibleByArgument {}
extension Backend: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check skipdit against a golden fixture directory (manifest.json + files).",
        discussion: "Suites: \(ConformanceSuite.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Argument(help: "The suite: c2v, t2v, vae or vae-temporal.")
    var suite: ConformanceSuite

    @Argument(help: "The fixture directory (holding manifest.json).")
    var directory: String

    @Option(help: "Tolerance level: recommended or tight.")
    var tolerance: ToleranceLevel = .recommended

    @Option(help: "GEMM backend: auto, onednn or openblas.")
    var backend: Backend = .auto

    @Option(help: "Precision: fp32 or bf16 (bf16 errors are reported; its tolerances are not claimed).")
    var precision: Precision = .fp32

    @Option(name: .customLong("kind"), help: "Only run cases of this kind (repeatable).")
    var kinds: [String] = []

    @Flag(help: "Print every check, not only one line per case.")
    var verbose = false

    func run() throws {
        let options = ConformanceOptions(
            tolerance: tolerance, backend: backend, precision: precision, kinds: kinds.isEmpty ? nil : Set(kinds))
        let report = try suite.run(directory: URL(fileURLWithPath: directory), options: options) { result in
            print(result.line)
            if verbose {
                for c in result.checks {
                    print(
                        String(
                            format: "    %@ %@: %.3g (tol %.3g)", c.passed ? "ok  " : "FAIL", c.label, c.maxError,
                            c.tolerance))
                }
            }
        }
        print(report.summary)
        if !report.passed { throw ExitCode.failure }
    }
}
