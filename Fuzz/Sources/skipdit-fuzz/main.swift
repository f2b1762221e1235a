// skipdit-fuzz: one libFuzzer driver for every reader of untrusted bytes. The reader under test is
// chosen by SKIPDIT_FUZZ_TARGET (or a `--target=NAME` argument, which libFuzzer ignores because it
// starts with "--"); `scripts/fuzz` sets it for each target. Built only with SKIPDIT_FUZZ=1 and
// `-sanitize=fuzzer,address -parse-as-library` (see scripts/fuzz). SwiftPM links an executable
// target's entry point as `<module>_main` (so tests can call it); that function hands over to
// libFuzzer's driver, which parses the command line and runs the fuzzing loop.
//
// Every driver feeds the input to the same public (or, through @testable import, internal byte-level)
// entry point the daemon uses, and then touches what was read (descriptions, tensor data, token ids),
// so a reader that accepts something inconsistent shows up as an ASan report rather than passing.
// Errors are expected; crashes, hangs, leaks and huge allocations are the bugs.

#if canImport(Glibc)
    import Glibc
#endif

/// The readers, by the name scripts/fuzz uses.
let fuzzTargets: [String: (UnsafeRawBufferPointer) -> Void] = [
    "yaml": FuzzYAML.parser,
    "job": FuzzYAML.job,
    "config": FuzzYAML.config,
    "pickle": FuzzCheckpoints.pickle,
    "zip": FuzzCheckpoints.zip,
    "safetensors": FuzzCheckpoints.safetensors,
    "npy": FuzzCheckpoints.npy,
    "render-state": FuzzRenderState.decode,
    "spm": FuzzTokenizer.model,
    "tokenizer-config": FuzzTokenizer.config,
    "prompt": FuzzTokenizer.prompt,
]

nonisolated(unsafe) var selectedTarget: ((UnsafeRawBufferPointer) -> Void)?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    var name = getenv("SKIPDIT_FUZZ_TARGET").map { String(cString: $0) }
    for i in 0..<Int(argc.pointee) {
        guard let p = argv.pointee?[i] else { continue }
        let arg = String(cString: p)
        if arg.hasPrefix("--target=") { name = String(arg.dropFirst("--target=".count)) }
    }
    guard let name, let target = fuzzTargets[name] else {
        let known = fuzzTargets.keys.sorted().joined(separator: ", ")
        fputs("skipdit-fuzz: set SKIPDIT_FUZZ_TARGET (or pass --target=NAME) to one of: \(known)\n", stderr)
        exit(2)
    }
    FuzzFiles.setUp()
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data.map { UnsafeRawPointer($0) }, count: data == nil ? 0 : size)
    selectedTarget?(bytes)
    return 0
}

/// libFuzzer's driver (compiler-rt), the body of the main() it would otherwise supply.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("skipdit_fuzz_main")
public func skipditFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) }
}
