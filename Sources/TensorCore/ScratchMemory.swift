// Where every buffer of the numeric code that is not a `Tensor` comes from (block workspaces,
// attention scores, bf16 copies, pooled decoder maps, oneDNN scratch): 64-byte aligned and filled
// at allocation. Two reproducibility rules rest on it:
//
// - Alignment. BLAS and oneDNN kernels may take another path, and sum in another order, for an
//   operand at another address modulo 64 (OpenBLAS's AVX-512 kernels peel unaligned heads). With
//   every base 64-byte aligned, an operand's alignment is a function of the shapes alone, never of
//   the heap's history, so it is the same in every run, process and daemon.
// - Never-written memory. Fresh memory is zero-filled; a reused buffer keeps what it held. A kernel
//   that reads scratch it did not write would make the output depend on the process's history. The
//   testing aid `SKIPDIT_SCRATCH_FILL=nan` (or any float) fills every buffer with that value at
//   allocation *and* on every reuse, so such a read changes the output, which the determinism tests
//   compare against a normal run.

import Foundation

public enum ScratchMemory {
    /// Byte alignment of every buffer.
    public static let alignment = 64

    /// The value written into every buffer on allocation and reuse, when testing; nil normally.
    public static let poison: Float? = {
        guard let raw = getenv("SKIPDIT_SCRATCH_FILL").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        return raw.lowercased() == "nan" ? Float.nan : Float(raw)
    }()

    /// `bytes` (rounded up to the alignment, at least one line) of aligned memory, zero-filled (or
    /// poisoned). Free it with `release`.
    public static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        precondition(bytes >= 0, "negative scratch size \(bytes)")
        let size = max(alignment, (bytes + alignment - 1) & ~(alignment - 1))
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, size) == 0, let raw else {
            fatalError("out of memory allocating \(size) bytes of scratch")
        }
        if let poison {
            fill(raw, bytes: size, with: poison)
        } else {
            memset(raw, 0, size)
        }
        return raw
    }

    /// `count` floats of aligned memory, zero-filled (or poisoned).
    public static func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        allocate(bytes: count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: max(count, 1))
    }

    public static func release(_ pointer: UnsafeMutableRawPointer) { free(pointer) }
    public static func release(_ pointer: UnsafeMutablePointer<Float>) { free(pointer) }

    /// Marks a pooled buffer as handed out again: poisons it when testing, does nothing otherwise.
    @inline(__always)
    public static func reuse(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if let poison { fill(pointer, bytes: bytes, with: poison) }
    }

    private static func fill(_ pointer: UnsafeMutableRawPointer, bytes: Int, with value: Float) {
        let floats = bytes / MemoryLayout<Float>.stride
        pointer.bindMemory(to: Float.self, capacity: floats).update(repeating: value, count: floats)
        // Bytes past the last whole float (bf16 buffers of odd length) get the value's high half.
        let tail = bytes - floats * MemoryLayout<Float>.stride
        if tail > 0 { memset(pointer + floats * MemoryLayout<Float>.stride, Int32(value.bitPattern >> 24), tail) }
    }
}
