// `bench gemm`: GFLOP/s of the transformer's weight GEMMs, y (M, N) = x (M, K) · Wᵀ, through each
// engine's `linear` path (so bf16 includes the per-call activation conversion).

import Foundation
import TensorCore

/// A GEMM problem size M x N x K.
public struct GEMMShape: Hashable, Sendable, CustomStringConvertible {
    public var m: Int, n: Int, k: Int

    public init(m: Int, n: Int, k: Int) {
        precondition(m > 0 && n > 0 && k > 0, "GEMM sizes must be positive")
        self.m = m
        self.n = n
        self.k = k
    }

    /// Parses "MxNxK", e.g. "4096x4608x1152".
    public init(parsing text: String) throws(BenchmarkError) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let m = parts[0], let n = parts[1], let k = parts[2], m > 0, n > 0, k > 0 else {
            throw .invalidShape(text)
        }
        self.init(m: m, n: n, k: k)
    }

    /// The Latte-XL transformer's GEMMs at 4096 tokens: qkv/proj (D→D), fc1 (D→4D), fc2 (4D→D).
    public static let transformer = [
        GEMMShape(m: 4096, n: 1152, k: 1152), GEMMShape(m: 4096, n: 4608, k: 1152),
        GEMMShape(m: 4096, n: 1152, k: 4608),
    ]

    /// 2·M·N·K.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    public var description: String { "\(m)x\(n)x\(k)" }
}

/// Errors from benchmarks.
public enum BenchmarkError: Error, CustomStringConvertible {
    case invalidShape(String)
    case engine(String)
    case childFailed(command: String, status: Int32, stderr: String)
    case childOutput(command: String, line: String, reason: String)

    public var description: String {
        switch self {
        case .invalidShape(let s):
            return "invalid GEMM shape '\(s)'. Hint: write MxNxK with positive integers, e.g. 4096x4608x1152."
        case .engine(let reason):
            return "cannot create the GEMM engine: \(reason)"
        case .childFailed(let cmd, let status, let stderr):
            return "child benchmark '\(cmd)' exited with status \(status): \(stderr.suffix(2000))"
        case .childOutput(let cmd, let line, let reason):
            return "child benchmark '\(cmd)' printed an unreadable line (\(reason)): \(line.prefix(200))"
        }
    }
}

/// Measures `linear` GFLOP/s for engines × precisions × shapes.
public struct GEMMBenchmark {
    public var shapes: [GEMMShape] = GEMMShape.transformer
    /// (backend, precision) pairs to measure, in order; openblas only does fp32.
    public var configurations: [(Backend, Precision)] = [(.openblas, .fp32), (.onednn, .fp32), (.onednn, .bf16)]
    public var benchmark = Benchmark(warmup: 1, runs: 5)
    /// nil = all cores.
    public var threads: Int?
    /// Label for the backend column of OpenBLAS rows (e.g. "openblas-shipped" in a child process).
    public var openblasLabel = "openblas"

    public init() {}

    /// Runs every configuration on every shape; the engines' runs are interleaved so that a noisy spell
    /// hits all of them alike;
    /// `report` sees each result as soon as it is measured.
    public func run(report: (BenchmarkResult) -> Void = { _ in }) throws(BenchmarkError) -> [BenchmarkResult] {
        var engines: [(GEMMEngine, GEMMEngineInfo?)] = []
        for (backend, precision) in configurations {
            do {
                let e = try makeGEMMEngine(ComputeOptions(backend: backend, precision: precision, threads: threads))
                engines.append((e, (e as? GEMMEngineDescribing)?.info))
            } catch {
                throw .engine("\(error)")
            }
        }
        var results: [BenchmarkResult] = []
        var seed: UInt64 = 12345
        for shape in shapes {
            // x (M, K), W (N, K), y (M, N); values in [-1, 1).
            let x = Tensor(shape: [shape.m, shape.k], values: randomValues(shape.m * shape.k, &seed))
            let w = Tensor(shape: [shape.n, shape.k], values: randomValues(shape.n * shape.k, &seed))
            var y = Tensor(zeros: [shape.m, shape.n])
            let yp = y.mutablePointer()
            let prepared = engines.map { $0.0.prepare(weight: w) }
            let timings = withExtendedLifetime((x, y)) {
                benchmark.measureInterleaved(count: engines.count) { i in
                    engines[i].0.linear(x.pointer, rows: shape.m, weight: prepared[i], bias: nil, into: yp)
                }
            }
            for ((engine, info), (weight, timing)) in zip(engines, zip(prepared, timings)) {
                let isBLAS = engine.backend == .openblas
                let implementation = (engine as? OneDNNEngine)?.implementation(
                    rows: shape.m, weight: weight, bias: false)
                let r = BenchmarkResult(
                    name: "gemm", backend: isBLAS ? openblasLabel : engine.backend.rawValue,
                    precision: engine.precision.rawValue, shape: shape.description, timing: timing,
                    flops: shape.flops, threads: info?.threads ?? Parallel.threadCount, library: info?.library,
                    openblasCore: isBLAS ? (try? OpenBLASLibrary.shared.get().coreName) : nil,
                    implementation: implementation, notes: (info?.notes).flatMap { $0.isEmpty ? nil : $0 })
                results.append(r)
                report(r)
            }
        }
        return results
    }

    /// The yardstick of the `of_peak` ratios: the best GFLOP/s of `shapes` at `engine`'s backend and
    /// precision, as a row named `gemm_peak`.
    public static func peak(
        engine: GEMMEngine, shapes: [GEMMShape], threads: Int?, benchmark: Benchmark
    ) throws(BenchmarkError) -> BenchmarkResult {
        var yardstick = GEMMBenchmark()
        yardstick.shapes = shapes
        yardstick.configurations = [(engine.backend, engine.precision)]
        yardstick.benchmark = benchmark
        yardstick.threads = threads
        let gemms = try yardstick.run()
        guard var peak = gemms.max(by: { ($0.gflops ?? 0) < ($1.gflops ?? 0) }), peak.gflops != nil else {
            throw .engine("the yardstick GEMMs gave no GFLOP/s")
        }
        peak.name = "gemm_peak"
        peak.notes = ["the best of \(gemms.map(\.shape).joined(separator: ", ")): the ratios' yardstick"]
        return peak
    }

    /// Whether this process forces OpenBLAS's kernels, so that an "as shipped" run differs.
    public static var openblasCoreIsForced: Bool {
        (try? OpenBLASLibrary.shared.get().forcedCoreType) != nil
    }
}
