// One benchmark measurement as a Codable record (one JSON object per line with --json), shared by
// every `skipdit bench` command.

/// One measurement: what ran, on what, how fast. JSON keys are snake_case.
public struct BenchmarkResult: Codable, Sendable, Equatable {
    /// Benchmark name, e.g. "gemm", "forward", "vae".
    public var name: String
    /// "openblas", "openblas-shipped", "onednn".
    public var backend: String
    /// "fp32" or "bf16".
    public var precision: String
    /// Problem size, e.g. "4096x4608x1152" (M x N x K for GEMMs).
    public var shape: String
    /// Best (fastest) run, seconds.
    public var seconds: Double
    public var medianSeconds: Double
    /// Work rate of the best run (GEMM: 2·M·N·K / seconds / 1e9); nil where FLOPs are not defined.
    public var gflops: Double?
    public var medianGflops: Double?
    /// Number of timed runs.
    public var runs: Int
    public var threads: Int
    /// CPU model name.
    public var cpu: String
    /// Library and kernel family, e.g. "oneDNN 2.6.3 avx512_core_bf16" or "OpenBLAS SkylakeX".
    public var library: String?
    /// The kernel family OpenBLAS reports (openblas_get_corename), for OpenBLAS rows.
    public var openblasCore: String?
    /// The oneDNN implementation chosen, e.g. "brg:avx512_core_bf16".
    public var implementation: String?
    /// Every run's seconds, in run order.
    public var samples: [Double]?
    public var notes: [String]?
    /// `gflops` as a fraction of the best GEMM GFLOP/s measured in the same run (bench render).
    public var ofPeak: Double?
    /// The process's peak resident memory (bench render's `total`).
    public var peakRSSBytes: Int?

    public init(
        name: String, backend: String, precision: String, shape: String, timing: Timing, flops: Double?,
        threads: Int, cpu: String = MachineInfo.cpu, library: String? = nil, openblasCore: String? = nil,
        implementation: String? = nil, notes: [String]? = nil
    ) {
        self.name = name
        self.backend = backend
        self.precision = precision
        self.shape = shape
        seconds = timing.best
        medianSeconds = timing.median
        gflops = flops.map { $0 / timing.best / 1e9 }
        medianGflops = flops.map { $0 / timing.median / 1e9 }
        runs = timing.samples.count
        self.threads = threads
        self.cpu = cpu
        self.library = library
        self.openblasCore = openblasCore
        self.implementation = implementation
        samples = timing.samples
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case name, backend, precision, shape, seconds
        case medianSeconds = "median_seconds"
        case gflops
        case medianGflops = "median_gflops"
        case runs, threads, cpu, library
        case openblasCore = "openblas_core"
        case implementation, samples, notes
        case ofPeak = "of_peak"
        case peakRSSBytes = "peak_rss_bytes"
    }
}
