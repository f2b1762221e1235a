// OpenBLAS, loaded at run time with dlopen so that OPENBLAS_CORETYPE is set before the library
// reads it. Debian's OpenBLAS 0.3.21 has detected AVX-512 Zen CPUs as Haswell (about half speed);
// on CPUs with AVX-512 we ask for its SkylakeX kernels, also over an OPENBLAS_CORETYPE found in the
// environment (some login environments set Haswell for other programs' sake; the Haswell kernels
// are never the faster ones on an AVX-512 CPU). SKIPDIT_OPENBLAS_AS_SHIPPED=1 leaves the choice to
// OpenBLAS and the environment. (Where the CPU also shows avx512_bf16, 0.3.21 picks Cooperlake,
// whose sgemm kernels are the SkylakeX ones, so forcing SkylakeX costs nothing there.)

import COpenBLAS
import Foundation

/// Errors from loading OpenBLAS.
public enum OpenBLASError: Error, CustomStringConvertible {
    case notFound(tried: [String], reason: String)
    case missingSymbol(String)

    public var description: String {
        switch self {
        case .notFound(let tried, let reason):
            return "OpenBLAS not found (tried \(tried.joined(separator: ", "))): \(reason). "
                + "Hint: install libopenblas0 (scripts/install-deps)."
        case .missingSymbol(let name): return "OpenBLAS has no symbol \(name)"
        }
    }
}

/// The process-wide OpenBLAS handle. Loading happens once, on first use.
public final class OpenBLASLibrary: @unchecked Sendable {
    public let sgemm: skipdit_sgemm_fn
    /// The kernel family OpenBLAS chose, e.g. "Haswell" or "SkylakeX".
    public let coreName: String
    /// The OPENBLAS_CORETYPE this process set, or nil when OpenBLAS and the environment chose.
    public let forcedCoreType: String?
    /// The OPENBLAS_CORETYPE the environment had set before, if any (replaced when `forcedCoreType`).
    public let environmentCoreType: String?
    private let setThreads: skipdit_set_threads_fn?

    /// Environment variable that disables the SkylakeX override (for the "as shipped" benchmark).
    public static let keepCoreTypeVariable = "SKIPDIT_OPENBLAS_AS_SHIPPED"

    public static let shared: Result<OpenBLASLibrary, OpenBLASError> = Result { () throws(OpenBLASError) in
        try OpenBLASLibrary()
    }

    private init() throws(OpenBLASError) {
        var forced: String?
        environmentCoreType = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        if getenv(Self.keepCoreTypeVariable) == nil, CPUFeatures.hasAVX512 {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
            forced = "SkylakeX"
        }
        // The pool OpenBLAS starts when it loads: exactly the configured thread count, never one
        // sized by OPENBLAS_NUM_THREADS/OMP_NUM_THREADS from the environment or the core count
        // (`compute.threads` decides how every product is split, so it decides the results).
        setenv("OPENBLAS_NUM_THREADS", String(Parallel.threadCount), 1)
        let candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"]
        var handle: UnsafeMutableRawPointer?
        var lastError = "dlopen failed"
        for name in candidates {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
            if let e = dlerror() { lastError = String(cString: e) }
        }
        guard let handle else { throw .notFound(tried: candidates, reason: lastError) }
        guard let g = dlsym(handle, "cblas_sgemm") else { throw .missingSymbol("cblas_sgemm") }
        sgemm = unsafeBitCast(g, to: skipdit_sgemm_fn.self)
        setThreads = dlsym(handle, "openblas_set_num_threads").map {
            unsafeBitCast($0, to: skipdit_set_threads_fn.self)
        }
        if let c = dlsym(handle, "openblas_get_corename") {
            let fn = unsafeBitCast(c, to: skipdit_get_corename_fn.self)
            coreName = fn().map { String(cString: $0) } ?? "unknown"
        } else {
            coreName = "unknown"
        }
        forcedCoreType = forced
        setThreads?(Int32(Parallel.threadCount))
    }

    public func setThreadCount(_ n: Int) { setThreads?(Int32(n)) }
}

/// CPU feature detection from /proc/cpuinfo (Linux).
public enum CPUFeatures {
    /// The first processor's `key : value` fields of /proc/cpuinfo.
    private static let fields: [String: String] = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [:] }
        var result: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            result[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }()

    public static let flags: Set<String> = Set((fields["flags"] ?? "").split(separator: " ").map(String.init))

    /// "AMD EPYC (family 25, model 17)": what a result's bits may depend on (kernel paths differ
    /// between CPU families).
    public static var identity: String {
        "\(fields["model name"] ?? "unknown CPU") (family \(fields["cpu family"] ?? "?"), model \(fields["model"] ?? "?"))"
    }
    public static var hasAVX512: Bool { flags.contains("avx512f") }
    public static var hasAVX512BF16: Bool { flags.contains("avx512_bf16") }
}
