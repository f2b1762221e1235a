// The oneDNN (DNNL 2.6 C API) wrapper: the process-wide CPU engine, status checking, plain
// memory descriptors, and `DNNLPrimitive`, a created primitive with a pool of execution contexts
// (stream, memory objects, scratchpad) so that several threads can run it at once.
// Every C pointer of oneDNN stays in this file and OneDNNEngine.swift.

import CDNNL
import Foundation

/// Errors from oneDNN. Each names the failing C call.
public enum OneDNNError: Error, CustomStringConvertible {
    /// A oneDNN call returned a status other than success.
    case call(String, status: String, context: String)
    /// The library loaded but has no usable CPU engine.
    case noEngine(reason: String)

    public var description: String {
        switch self {
        case .call(let name, let status, let context):
            let where_ = context.isEmpty ? "" : " (\(context))"
            return "oneDNN \(name) failed: \(status)\(where_). "
                + "Hint: use backend openblas, or check that libdnnl2 (oneDNN 2.6) is installed."
        case .noEngine(let reason):
            return "oneDNN has no CPU engine: \(reason). Hint: install libdnnl2 or use --backend openblas."
        }
    }
}

/// Human-readable name of a dnnl_status_t.
func dnnlStatusName(_ s: dnnl_status_t) -> String {
    switch s {
    case dnnl_success: return "success"
    case dnnl_out_of_memory: return "out of memory"
    case dnnl_invalid_arguments: return "invalid arguments"
    case dnnl_unimplemented: return "unimplemented (no implementation for these shapes/types)"
    case dnnl_iterator_ends: return "iterator ends"
    case dnnl_runtime_error: return "runtime error"
    case dnnl_not_required: return "not required"
    default: return "status \(s.rawValue)"
    }
}

/// Throws `OneDNNError.call` unless `status` is success.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ name: String, _ context: @autoclosure () -> String = "") throws(OneDNNError) {
    if status != dnnl_success { throw .call(name, status: dnnlStatusName(status), context: context()) }
}

/// The process-wide oneDNN CPU engine and OpenMP thread control.
final class DNNLRuntime: @unchecked Sendable {
    let engine: dnnl_engine_t
    /// "oneDNN 2.6.3 (OpenMP)".
    let versionString: String
    static let shared: Result<DNNLRuntime, OneDNNError> = Result { () throws(OneDNNError) in try DNNLRuntime() }

    private init() throws(OneDNNError) {
        if let failure = skipdit_dnnl_load() {
            throw .noEngine(reason: String(cString: failure) + "; hint: install libdnnl2 (scripts/install-deps)")
        }
        var e: dnnl_engine_t?
        try dnnlCheck(skipdit_dnnl_engine_create(&e, dnnl_cpu, 0), "dnnl_engine_create")
        guard let e else { throw .noEngine(reason: "dnnl_engine_create returned no engine") }
        engine = e
        if let v = skipdit_dnnl_version() {
            versionString = "oneDNN \(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
        } else {
            versionString = "oneDNN"
        }
    }

    /// Sets the OpenMP team size for parallel regions started by the calling thread (an OpenMP
    /// per-thread setting, so it is applied before every primitive creation and execution).
    @inline(__always)
    func setThreads(_ n: Int) { _ = skipdit_omp_set_num_threads(Int32(n)) }

    /// The instruction set oneDNN dispatches to, e.g. "avx512_core_bf16".
    static var effectiveISA: String {
        switch skipdit_dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case let other: return "isa 0x\(String(other.rawValue, radix: 16))"
        }
    }
}

/// Element types used here.
enum DNNLType {
    case f32, bf16
    var c: dnnl_data_type_t { self == .f32 ? dnnl_f32 : dnnl_bf16 }
}

/// A 2-D memory descriptor with explicit strides (in elements): (rows, cols), row stride, col stride.
func dnnlMatrixDesc(rows: Int, cols: Int, rowStride: Int, colStride: Int, type: DNNLType) throws(OneDNNError)
    -> dnnl_memory_desc_t
{
    var md = dnnl_memory_desc_t()
    var dims: [Int64] = [Int64(rows), Int64(cols)]
    var strides: [Int64] = [Int64(rowStride), Int64(colStride)]
    dims.append(contentsOf: repeatElement(0, count: 10))
    strides.append(contentsOf: repeatElement(0, count: 10))
    try dnnlCheck(
        skipdit_dnnl_memory_desc_init_by_strides(&md, 2, dims, type.c, strides), "dnnl_memory_desc_init_by_strides",
        "\(rows)x\(cols) strides \(rowStride),\(colStride)")
    return md
}

/// Post-processing of a primitive: output scale (alpha) and an accumulate-into-destination sum (beta).
struct DNNLAttributes {
    var outputScale: Float = 1
    /// nil: overwrite the destination; otherwise dst = result + sumScale · dst.
    var sumScale: Float? = nil
}

/// A created matmul primitive plus a pool of execution contexts. Thread-safe.
final class DNNLPrimitive: @unchecked Sendable {
    private let pd: dnnl_primitive_desc_t
    private let primitive: dnnl_primitive_t
    /// The execution arguments (DNNL_ARG_*) in the order `execute` takes their pointers.
    private let argKinds: [Int32]
    private let scratchpadBytes: Int
    private let runtime: DNNLRuntime
    private let threads: Int
    /// The implementation oneDNN picked, e.g. "brg:avx512_core_bf16".
    let implementation: String

    private let lock = NSLock()
    private var idle: [Context] = []

    /// One caller's private execution state.
    private final class Context {
        let stream: dnnl_stream_t
        let memories: [dnnl_memory_t]
        let scratchpad: dnnl_memory_t?
        let scratchBuffer: UnsafeMutableRawPointer?
        var args: [dnnl_exec_arg_t]

        init(
            stream: dnnl_stream_t, memories: [dnnl_memory_t], kinds: [Int32], scratchpad: dnnl_memory_t?,
            scratchBuffer: UnsafeMutableRawPointer?
        ) {
            self.stream = stream
            self.memories = memories
            self.scratchpad = scratchpad
            self.scratchBuffer = scratchBuffer
            args = zip(kinds, memories).map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
            if let scratchpad { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad)) }
        }

        deinit {
            for m in memories { skipdit_dnnl_memory_destroy(m) }
            if let scratchpad { skipdit_dnnl_memory_destroy(scratchpad) }
            scratchBuffer.map(ScratchMemory.release)
            skipdit_dnnl_stream_destroy(stream)
        }
    }

    /// Creates a matmul dst (M, N) = src (M, K) · weights (K, N) [+ bias (1, N)].
    static func matmul(
        runtime: DNNLRuntime, threads: Int, src: dnnl_memory_desc_t, weights: dnnl_memory_desc_t,
        bias: dnnl_memory_desc_t?, dst: dnnl_memory_desc_t, attributes: DNNLAttributes, context: String
    ) throws(OneDNNError) -> DNNLPrimitive {
        var desc = dnnl_matmul_desc_t()
        var s = src, w = weights, d = dst
        if var b = bias {
            try dnnlCheck(skipdit_dnnl_matmul_desc_init(&desc, &s, &w, &b, &d), "dnnl_matmul_desc_init", context)
        } else {
            try dnnlCheck(skipdit_dnnl_matmul_desc_init(&desc, &s, &w, nil, &d), "dnnl_matmul_desc_init", context)
        }
        var kinds = [DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST]
        if bias != nil { kinds.append(DNNL_ARG_BIAS) }
        return try withUnsafePointer(to: &desc) { (p) throws(OneDNNError) -> DNNLPrimitive in
            try DNNLPrimitive(
                runtime: runtime, threads: threads, opDesc: UnsafeRawPointer(p), attributes: attributes,
                argKinds: kinds.map { Int32($0) }, context: context)
        }
    }

    private static func makeAttr(_ a: DNNLAttributes) throws(OneDNNError) -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(skipdit_dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        guard let attr else { throw .call("dnnl_primitive_attr_create", status: "no attribute", context: "") }
        do throws(OneDNNError) {
            try dnnlCheck(
                skipdit_dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
                "dnnl_primitive_attr_set_scratchpad_mode")
            if a.outputScale != 1 {
                var scale = a.outputScale
                try dnnlCheck(
                    skipdit_dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale),
                    "dnnl_primitive_attr_set_output_scales")
            }
            if let sum = a.sumScale {
                var ops: dnnl_post_ops_t?
                try dnnlCheck(skipdit_dnnl_post_ops_create(&ops), "dnnl_post_ops_create")
                defer { if let ops { skipdit_dnnl_post_ops_destroy(ops) } }
                try dnnlCheck(skipdit_dnnl_post_ops_append_sum(ops, sum), "dnnl_post_ops_append_sum")
                try dnnlCheck(skipdit_dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops")
            }
        } catch {
            skipdit_dnnl_primitive_attr_destroy(attr)
            throw error
        }
        return attr
    }

    private convenience init(
        runtime: DNNLRuntime, threads: Int, opDesc: UnsafeRawPointer, attributes: DNNLAttributes, argKinds: [Int32],
        context: String
    ) throws(OneDNNError) {
        let attr = try Self.makeAttr(attributes)
        defer { skipdit_dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        runtime.setThreads(threads)
        try dnnlCheck(
            skipdit_dnnl_primitive_desc_create(&pd, opDesc, attr, runtime.engine, nil), "dnnl_primitive_desc_create",
            context)
        guard let pd else { throw .call("dnnl_primitive_desc_create", status: "no descriptor", context: context) }
        try self.init(runtime: runtime, threads: threads, pd: pd, argKinds: argKinds, context: context)
    }

    /// Takes ownership of `pd`.
    private init(runtime: DNNLRuntime, threads: Int, pd: dnnl_primitive_desc_t, argKinds: [Int32], context: String)
        throws(OneDNNError)
    {
        var prim: dnnl_primitive_t?
        let status = skipdit_dnnl_primitive_create(&prim, pd)
        guard status == dnnl_success, let prim else {
            skipdit_dnnl_primitive_desc_destroy(pd)
            throw .call("dnnl_primitive_create", status: dnnlStatusName(status), context: context)
        }
        self.pd = pd
        self.primitive = prim
        self.runtime = runtime
        self.threads = threads
        self.argKinds = argKinds
        let scratchMD = skipdit_dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)
        scratchpadBytes = scratchMD.map { skipdit_dnnl_memory_desc_get_size($0) } ?? 0
        var info: UnsafePointer<CChar>?
        if skipdit_dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info) == dnnl_success, let info {
            implementation = String(cString: info)
        } else {
            implementation = "unknown"
        }
    }

    deinit {
        idle.removeAll()
        skipdit_dnnl_primitive_destroy(primitive)
        skipdit_dnnl_primitive_desc_destroy(pd)
    }

    private func makeContext() throws(OneDNNError) -> Context {
        var stream: dnnl_stream_t?
        try dnnlCheck(
            skipdit_dnnl_stream_create(&stream, runtime.engine, dnnl_stream_default_flags.rawValue),
            "dnnl_stream_create")
        guard let stream else { throw .call("dnnl_stream_create", status: "no stream", context: "") }
        var memories: [dnnl_memory_t] = []
        var scratch: dnnl_memory_t?
        var buffer: UnsafeMutableRawPointer?
        do throws(OneDNNError) {
            for kind in argKinds {
                guard let mdp = skipdit_dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, kind) else {
                    throw OneDNNError.call(
                        "dnnl_primitive_desc_query_md", status: "no descriptor", context: "arg \(kind)")
                }
                var m: dnnl_memory_t?
                try dnnlCheck(
                    skipdit_dnnl_memory_create(&m, mdp, runtime.engine, nil), "dnnl_memory_create", "arg \(kind)")
                if let m { memories.append(m) }
            }
            if scratchpadBytes > 0, let mdp = skipdit_dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) {
                let b = ScratchMemory.allocate(bytes: scratchpadBytes)
                buffer = b
                try dnnlCheck(
                    skipdit_dnnl_memory_create(&scratch, mdp, runtime.engine, b), "dnnl_memory_create", "scratchpad")
            }
        } catch {
            for m in memories { skipdit_dnnl_memory_destroy(m) }
            buffer.map(ScratchMemory.release)
            skipdit_dnnl_stream_destroy(stream)
            throw error
        }
        return Context(stream: stream, memories: memories, kinds: argKinds, scratchpad: scratch, scratchBuffer: buffer)
    }

    /// Runs the primitive on the given buffers, one per argument kind in creation order
    /// (src, weights, dst[, bias]). Blocks until done. Allocates nothing
    /// once a context is pooled.
    func execute(
        _ b0: UnsafeRawPointer, _ b1: UnsafeRawPointer, _ b2: UnsafeRawPointer? = nil,
        _ b3: UnsafeRawPointer? = nil
    ) throws(OneDNNError) {
        let given = 2 + (b2 == nil ? 0 : 1) + (b3 == nil ? 0 : 1)
        precondition(given == argKinds.count, "expected \(argKinds.count) buffers, got \(given)")
        lock.lock()
        let popped = idle.popLast()
        lock.unlock()
        let ctx: Context
        if let popped { ctx = popped } else { ctx = try makeContext() }
        for (i, m) in ctx.memories.enumerated() {
            let b = i == 0 ? b0 : i == 1 ? b1 : i == 2 ? b2 : b3
            try dnnlCheck(
                skipdit_dnnl_memory_set_data_handle(m, UnsafeMutableRawPointer(mutating: b)),
                "dnnl_memory_set_data_handle")
        }
        runtime.setThreads(threads)
        try dnnlCheck(
            skipdit_dnnl_primitive_execute(primitive, ctx.stream, Int32(ctx.args.count), ctx.args),
            "dnnl_primitive_execute", implementation)
        try dnnlCheck(skipdit_dnnl_stream_wait(ctx.stream), "dnnl_stream_wait")
        lock.lock()
        idle.append(ctx)
        lock.unlock()
    }
}
