// Choosing the GEMM engine at run time: `ComputeOptions` (backend, precision, threads) and the
// factory `makeGEMMEngine`, which applies the rules (auto = oneDNN if it loads, else OpenBLAS;
// bf16 needs oneDNN) and reports what it chose.

/// How the numeric code computes: which GEMM library, which arithmetic, how many threads.
public struct ComputeOptions: Sendable, Codable, Equatable {
    public var backend: Backend
    public var precision: Precision
    /// Worker threads for GEMMs and kernels; nil = all active cores.
    public var threads: Int?

    public init(backend: Backend = .auto, precision: Precision = .fp32, threads: Int? = nil) {
        self.backend = backend
        self.precision = precision
        self.threads = threads
    }
}

/// Errors from choosing a GEMM engine.
public enum ComputeError: Error, CustomStringConvertible {
    /// The backend cannot compute in this precision (OpenBLAS: fp32 only; oneDNN: bf16 needs AVX-512).
    case precisionUnsupported(backend: Backend, precision: Precision, reason: String)
    /// The requested backend could not be loaded.
    case backendUnavailable(Backend, reason: String)
    /// Neither backend could be loaded (backend auto).
    case noBackend(onednn: String, openblas: String)
    /// A thread count below 1.
    case invalidThreads(Int)

    public var description: String {
        switch self {
        case .precisionUnsupported(let b, let p, let reason):
            let hint =
                b == .openblas
                ? "use backend onednn (or auto) for bf16, or precision fp32 with openblas"
                : "use precision fp32 on this CPU"
            return "precision \(p.rawValue) is not available with backend \(b.rawValue): \(reason). Hint: \(hint)."
        case .backendUnavailable(let b, let reason):
            return "backend \(b.rawValue) is unavailable: \(reason)"
        case .noBackend(let d, let o):
            return "no GEMM backend could be loaded (oneDNN: \(d); OpenBLAS: \(o)). "
                + "Hint: run scripts/install-deps."
        case .invalidThreads(let n):
            return "threads must be at least 1, got \(n). Hint: leave threads unset to use all cores."
        }
    }
}

/// What an engine is, for logs and benchmark records.
public struct GEMMEngineInfo: Sendable, Codable, Equatable {
    public var backend: Backend
    public var precision: Precision
    public var threads: Int
    /// e.g. "oneDNN 2.6.3 avx512_core_bf16" or "OpenBLAS SkylakeX".
    public var library: String
    /// Things the user should know, e.g. that bf16 is emulated on this CPU.
    public var notes: [String]
}

/// An engine that can describe itself.
public protocol GEMMEngineDescribing {
    var info: GEMMEngineInfo { get }
}

extension OneDNNEngine: GEMMEngineDescribing {
    public var info: GEMMEngineInfo {
        var notes: [String] = []
        if precision == .bf16 && !hasNativeBF16 {
            notes.append(
                "no native bf16 for oneDNN here (ISA \(isa); needs avx512_core_bf16 or AMX): bf16 is emulated, slower than fp32"
            )
        }
        return GEMMEngineInfo(
            backend: .onednn, precision: precision, threads: threads,
            library: "\(libraryVersion) \(isa)", notes: notes)
    }
}

extension OpenBLASEngine: GEMMEngineDescribing {
    public var info: GEMMEngineInfo {
        var notes: [String] = []
        switch (lib.forcedCoreType, lib.environmentCoreType) {
        case (let forced?, let previous?) where previous != forced:
            notes.append(
                "OPENBLAS_CORETYPE=\(forced) set (AVX-512 CPU), replacing \(previous) from the environment "
                    + "(\(OpenBLASLibrary.keepCoreTypeVariable)=1 keeps it)")
        case (let forced?, _): notes.append("OPENBLAS_CORETYPE=\(forced) set (AVX-512 CPU)")
        case (nil, let previous?): notes.append("OPENBLAS_CORETYPE=\(previous) from the environment")
        case (nil, nil): break
        }
        return GEMMEngineInfo(
            backend: .openblas, precision: .fp32, threads: Parallel.threadCount,
            library: "OpenBLAS \(lib.coreName)", notes: notes)
    }
}

/// Creates the engine `options` ask for. Setting `threads` also sets `Parallel.threadCount` and
/// OpenBLAS's thread count (process-wide).
public func makeGEMMEngine(_ options: ComputeOptions) throws(ComputeError) -> GEMMEngine {
    if let t = options.threads {
        guard t >= 1 else { throw .invalidThreads(t) }
        Parallel.threadCount = t
    }
    let threads = options.threads ?? Parallel.threadCount

    func openBLAS() throws(ComputeError) -> OpenBLASEngine {
        do {
            let e = try OpenBLASEngine()
            e.lib.setThreadCount(threads)
            return e
        } catch {
            throw .backendUnavailable(.openblas, reason: "\(error)")
        }
    }
    func oneDNN() throws(ComputeError) -> OneDNNEngine {
        do {
            return try OneDNNEngine(precision: options.precision, threads: threads)
        } catch {
            // oneDNN loads but has no bf16 matmul for this CPU (e.g. AVX2 only)?
            if options.precision == .bf16, (try? OneDNNEngine(precision: .fp32, threads: threads)) != nil {
                throw .precisionUnsupported(
                    backend: .onednn, precision: .bf16,
                    reason: "oneDNN has no bf16 matmul for ISA \(DNNLRuntime.effectiveISA)")
            }
            throw .backendUnavailable(.onednn, reason: "\(error)")
        }
    }

    switch options.backend {
    case .openblas:
        guard options.precision == .fp32 else {
            throw .precisionUnsupported(
                backend: .openblas, precision: options.precision, reason: "OpenBLAS has only fp32 GEMM")
        }
        return try openBLAS()
    case .onednn:
        return try oneDNN()
    case .auto:
        do {
            return try oneDNN()
        } catch {
            guard options.precision == .fp32 else { throw error }
            do {
                return try openBLAS()
            } catch let blasError {
                throw .noBackend(onednn: "\(error)", openblas: "\(blasError)")
            }
        }
    }
}
