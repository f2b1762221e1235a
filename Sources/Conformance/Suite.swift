// Running a fixture suite: read the manifest, dispatch every case on its kind, collect results.
// A kind this version cannot check is a failed case, never a silent skip.

import Foundation
import Latte
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

extension ConformanceOptions {
    /// The GEMM engine for these options.
    func engine() throws(ConformanceError) -> GEMMEngine {
        do { return try makeGEMMEngine(ComputeOptions(backend: backend, precision: precision)) } catch {
            throw .model("\(error)")
        }
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
        case .t2v: runner = T2VRunner(fixtures: fixtures, options: options)
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

final class C2VRunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions
    private var models: [String: LatteTransformer] = [:]
    private var engine: GEMMEngine?

    init(fixtures: FixtureDirectory, options: ConformanceOptions) throws(ConformanceError) {
        self.fixtures = fixtures
        self.options = options
    }

    /// The manifest's model `name`, loaded once from its checkpoint.
    func model(_ name: String) throws(ConformanceError) -> LatteTransformer {
        if let m = models[name] { return m }
        let entry = try fixtures.manifest["models"][name]
        let file = fixtures.file(try entry["checkpoint"].string)
        let heads = try entry["config"]["num_heads"].int
        let engine: GEMMEngine
        if let e = self.engine {
            engine = e
        } else {
            engine = try options.engine()
        }
        self.engine = engine
        let m: LatteTransformer
        do {
            m = try LatteTransformer.load(checkpoint: file, numHeads: heads, engine: engine)
        } catch { throw .model("\(file.path): \(error)") }
        models[name] = m
        return m
    }

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        let cases = C2VModelCases(fixtures: fixtures, level: options.tolerance, model: model)
        switch kind {
        case "schedule": return try C2VDiffusionCases.schedule(c, fixtures: fixtures)
        case "diffusion_step": return try C2VDiffusionCases.diffusionSteps(c, fixtures: fixtures)
        case "timestep_features": return try C2VFeatureCases.timestepFeatures(c, fixtures: fixtures)
        case "postprocess": return try C2VFeatureCases.toUInt8(c, fixtures: fixtures)
        case "forward": return try cases.forward(c, cfg: false)
        case "forward_cfg": return try cases.forward(c, cfg: true)
        case "cache_sequence": return try cases.cacheSequence(c)
        case "sample": return try cases.sample(c)
        default: throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
        }
    }
}
