// Running a fixture suite: read the manifest, dispatch every case on its kind, collect results.
// A kind this version cannot check is a failed case, never a silent skip.

import Foundation
import TensorCore

/// How a conformance run computes and judges.
public struct ConformanceOptions: Sendable {
    public var tolerance: ToleranceLevel
    public var backend: Backend
    public var precision: Precision
    /// Only run cases of these kinds (nil: all).
    public var kinds: Set<String>?

    public init(
        tolerance: ToleranceLevel = .recommended, backend: Backend = .auto, precision: Precision = .fp32,
        kinds: Set<String>? = nil
    ) {
        self.tolerance = tolerance
        self.backend = backend
        self.precision = precision
        self.kinds = kinds
    }
}

/// The fixture suites skipdit can check (the names used by `skipdit conformance`).
public enum ConformanceSuite: String, Sendable, CaseIterable {
    case c2v, t2v, vae
    case vaeTemporal = "vae-temporal"

    /// Runs every case of the directory, reporting each as it finishes.
    public func run(
        directory: URL, options: ConformanceOptions = .init(), progress: (CaseResult) -> Void = { _ in }
    ) throws(ConformanceError) -> ConformanceReport {
        let fixtures = try FixtureDirectory(directory)
        let runner: CaseRunner
        switch self {
        case .c2v: runner = try C2VRunner(fixtures: fixtures, options: options)
        case .vae: runner = VAERunner(fixtures: fixtures, options: options)
        case .vaeTemporal: runner = VAETemporalRunner(fixtures: fixtures, options: options)
        case .t2v: throw .manifest("suite '\(rawValue)' is not supported yet")
        }
        var results: [CaseResult] = []
        for c in try fixtures.manifest["cases"].array {
            let name = (try? c["name"].string) ?? c.path
            // The vae suite's cases carry no kind: each is one decode.
            let kind = (try? c["kind"].string) ?? "decode"
            if let kinds = options.kinds, !kinds.contains(kind) { continue }
            var result = CaseResult(name: name, kind: kind, checks: [])
            do { result.checks = try runner.run(case: c, kind: kind) } catch { result.failure = "\(error)" }
            progress(result)
            results.append(result)
        }
        return ConformanceReport(suite: rawValue, cases: results)
    }
}

/// Runs the cases of one suite.
protocol CaseRunner {
    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check]
}

struct C2VRunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions

    init(fixtures: FixtureDirectory, options: ConformanceOptions) throws(ConformanceError) {
        self.fixtures = fixtures
        self.options = options
    }

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        switch kind {
        case "schedule": return try C2VDiffusionCases.schedule(c, fixtures: fixtures)
        case "diffusion_step": return try C2VDiffusionCases.diffusionSteps(c, fixtures: fixtures)
        case "timestep_features": return try C2VFeatureCases.timestepFeatures(c, fixtures: fixtures)
        default: throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
        }
    }
}
