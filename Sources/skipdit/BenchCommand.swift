// skipdit bench — benchmark commands (`gemm` now; `forward` and `vae` later). Each prints a table,
// or with --json one JSON object per measurement and line.

import ArgumentParser
import Benchmarks
import Foundation
import TensorCore

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: GEMM, a full-size forward, a VAE frame (GFLOP/s per backend and precision).",
        subcommands: [
            BenchGEMMCommand.self, BenchForwardCommand.self, BenchVAECommand.self, BenchCacheCommand.self,
            BenchRenderCommand.self, BenchAttentionCommand.self,
        ])
}

/// Options every bench subcommand shares.
struct BenchCommonOptions: ParsableArguments {
    @Option(help: "Timed runs per measurement (best and median are reported).")
    var runs = 5

    @Option(help: "Untimed warm-up runs per measurement.")
    var warmup = 1

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print one JSON object per measurement and line instead of a table.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var benchmark: Benchmark { Benchmark(warmup: warmup, runs: runs) }

    /// Prints results the way the options ask (JSON lines stream as measured; the table at the end).
    func emit(_ r: BenchmarkResult) {
        if json {
            print(BenchmarkReport.jsonLine(r))
        } else {
            let g = r.gflops.map { String(format: "%.1f GFLOP/s", $0) } ?? String(format: "%.4f s", r.seconds)
            FileHandle.standardError.write(Data("  \(r.name) \(r.backend) \(r.precision) \(r.shape): best \(g)\n".utf8))
        }
    }

    func finish(_ results: [BenchmarkResult]) {
        if !json { print(BenchmarkReport.table(results)) }
    }
}

/// The backends and precisions a benchmark measures (--backend, --precision).
struct BenchEngineOptions: ParsableArguments {
    enum BackendChoice: String, CaseIterable, ExpressibleByArgument { case all, openblas, onednn }
    enum PrecisionChoice: String, CaseIterable, ExpressibleByArgument { case all, fp32, bf16 }

    @Option(help: "Backends to measure: all, openblas, onednn.")
    var backend = BackendChoice.all

    @Option(help: "Precisions to measure: all, fp32, bf16 (bf16 needs oneDNN).")
    var precision = PrecisionChoice.all

    /// The (backend, precision) pairs selected; OpenBLAS has no bf16.
    var configurations: [(Backend, Precision)] {
        var out: [(Backend, Precision)] = []
        if backend != .onednn, precision != .bf16 { out.append((.openblas, .fp32)) }
        if backend != .openblas {
            if precision != .bf16 { out.append((.onednn, .fp32)) }
            if precision != .fp32 { out.append((.onednn, .bf16)) }
        }
        return out
    }
}

struct BenchGEMMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of y = x·Wᵀ on the transformer's GEMM shapes, per backend and precision.",
        discussion: """
            Shapes are M x N x K (x is M x K, W is N x K). With an AVX-512 CPU the OpenBLAS rows use its \
            SkylakeX kernels; the same benchmark also runs in a child process with \
            \(OpenBLASLibrary.keepCoreTypeVariable)=1 to show OpenBLAS as shipped (backend openblas-shipped).
            """)

    @OptionGroup var engines: BenchEngineOptions

    @Option(name: .customLong("shape"), help: "A GEMM shape MxNxK; repeat for several (default: the transformer's).")
    var shapes: [String] = []

    @Flag(inversion: .prefixedNo, help: "Also measure OpenBLAS as shipped (child process) when its kernels are forced.")
    var shipped = true

    @Option(
        name: .customLong("openblas-core"),
        help: "Also measure OpenBLAS with this OPENBLAS_CORETYPE (child process), e.g. Haswell; repeatable.")
    var openblasCores: [String] = []

    @OptionGroup var common: BenchCommonOptions

    var configurations: [(Backend, Precision)] { engines.configurations }

    func validate() throws {
        for s in shapes { _ = try GEMMShape(parsing: s) }
        if configurations.isEmpty {
            throw ValidationError(
                "OpenBLAS has no bf16 GEMM. Hint: use --backend onednn (or all) with --precision bf16.")
        }
    }

    func run() async throws {
        var bench = GEMMBenchmark()
        bench.shapes = try shapes.isEmpty ? GEMMShape.transformer : shapes.map { try GEMMShape(parsing: $0) }
        bench.configurations = configurations
        bench.benchmark = common.benchmark
        bench.threads = common.threads
        let asShipped = ProcessInfo.processInfo.environment[OpenBLASLibrary.keepCoreTypeVariable] != nil
        if asShipped { bench.openblasLabel = "openblas-shipped" }

        var results: [BenchmarkResult] = []
        // OpenBLAS reads its core type once, when it loads: other kernels need a fresh process.
        let withBLAS = configurations.contains { $0.0 == .openblas }
        var children: [(label: String, coreType: String?)] = []
        if withBLAS, shipped, !asShipped, GEMMBenchmark.openblasCoreIsForced {
            children.append(("openblas-shipped", nil))
        }
        if withBLAS, !asShipped { children += openblasCores.map { ("openblas-\($0.lowercased())", $0) } }
        for child in children {
            var args = [
                "bench", "gemm", "--backend", "openblas", "--precision", "fp32", "--no-shipped", "--json",
                "--runs", "\(common.runs)", "--warmup", "\(common.warmup)",
            ]
            args += bench.shapes.flatMap { ["--shape", $0.description] }
            if let t = common.threads { args += ["--threads", "\(t)"] }
            var set = [OpenBLASLibrary.keepCoreTypeVariable: "1"]
            if let core = child.coreType { set["OPENBLAS_CORETYPE"] = core }
            let measured = try ChildBenchmark.run(
                arguments: args, set: set, unset: child.coreType == nil ? ["OPENBLAS_CORETYPE"] : [])
            for var r in measured {
                r.backend = child.label
                common.emit(r)
                results.append(r)
            }
        }
        results += try bench.run(report: common.emit)
        // Group rows by shape, then backend order as measured.
        let order = bench.shapes.map(\.description)
        results = results.enumerated().sorted { l, r in
            let (a, b) = (order.firstIndex(of: l.element.shape) ?? 0, order.firstIndex(of: r.element.shape) ?? 0)
            return a != b ? a < b : l.offset < r.offset
        }.map(\.element)
        common.finish(results)
    }
}
