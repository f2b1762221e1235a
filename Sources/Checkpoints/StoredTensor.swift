// A tensor as stored in a checkpoint: dtype, shape, strides and an offset into bytes owned by a
// memory-mapped file. Nothing is read until asked: `float32()` borrows the mapped bytes when they are
// contiguous aligned float32 and converts (f16, bf16, f64, integers) or gathers (strides) otherwise.

import Foundation
import TensorCore

/// Element types found in checkpoints.
public enum StoredDType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

/// Bytes borrowed from a mapped file (or an owned copy), kept alive by `owner`.
public struct BorrowedBytes: @unchecked Sendable {
    /// Start of the bytes; valid while `owner` is alive.
    public let pointer: UnsafeRawPointer
    /// Number of bytes.
    public let count: Int
    /// Keeps the memory alive (a `MappedFile` or an owned buffer).
    public let owner: AnyObject
}

/// Owned, 64-byte aligned raw memory (for gathered copies).
final class OwnedBytes {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(count, 1)) == 0, let raw else {
            fatalError("out of memory allocating \(count) bytes")
        }
        pointer = raw
    }
    deinit { free(pointer) }
}

/// A tensor in a checkpoint, not yet loaded. Shape, strides and offset are in elements and have been
/// validated against the storage when the file was opened.
public struct StoredTensor: @unchecked Sendable, CustomStringConvertible {
    /// Name in the file.
    public internal(set) var name: String
    /// The file it comes from (for errors).
    public let path: String
    public let dtype: StoredDType
    public let shape: [Int]
    /// Strides in elements (row-major contiguous for safetensors).
    public let strides: [Int]
    /// Offset of element [0, 0, …] from the storage start, in elements.
    public let storageOffset: Int
    /// Start of the storage inside the mapped file.
    let storage: UnsafeRawPointer
    /// Number of elements the storage holds.
    let storageCount: Int
    let owner: MappedFile

    /// Validates the tensor against its storage; every check is overflow-safe.
    init(
        name: String, file: MappedFile, dtype: StoredDType, shape: [Int], strides: [Int], storageOffset: Int,
        storageByteOffset: Int, storageCount: Int
    ) throws(CheckpointError) {
        let path = file.path
        func bad(_ r: String) -> CheckpointError { .badTensor(path: path, tensor: name, reason: r) }
        guard shape.count == strides.count else { throw bad("shape \(shape) and strides \(strides) differ in rank") }
        guard shape.count <= 16 else { throw bad("rank \(shape.count) is absurd") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("negative dimension in shape \(shape)") }
        guard strides.allSatisfy({ $0 >= 0 }) else { throw bad("negative stride in \(strides)") }
        guard storageOffset >= 0, storageCount >= 0 else { throw bad("negative storage offset or size") }
        let count = try Self.elementCount(shape, path: path, name: name)
        let (storageBytes, o1) = storageCount.multipliedReportingOverflow(by: dtype.size)
        guard !o1, file.contains(offset: storageByteOffset, length: storageBytes) else {
            throw bad(
                "storage of \(storageCount) \(dtype) elements at byte \(storageByteOffset) exceeds the file (\(file.count) bytes)"
            )
        }
        if count > 0 {
            var last = storageOffset
            for (d, s) in zip(shape, strides) {
                let (step, o2) = (d - 1).multipliedReportingOverflow(by: s)
                let (sum, o3) = last.addingReportingOverflow(step)
                guard !o2, !o3 else { throw bad("strides \(strides) overflow") }
                last = sum
            }
            guard last < storageCount else {
                throw bad(
                    "shape \(shape) with strides \(strides) and offset \(storageOffset) reaches element \(last), but the storage holds \(storageCount)"
                )
            }
        }
        self.name = name
        self.path = path
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.storageOffset = storageOffset
        self.storage = file.bytes.baseAddress.map { UnsafeRawPointer($0) + storageByteOffset } ?? Self.emptyBase
        self.storageCount = storageCount
        self.owner = file
    }

    /// Stand-in start for empty storages of an empty file (never dereferenced: such tensors have no elements).
    private static let emptyBase = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64))

    /// Product of `shape`, or an error if it overflows or is absurd (> 2^48 elements).
    static func elementCount(_ shape: [Int], path: String, name: String) throws(CheckpointError) -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else {
                throw .badTensor(path: path, tensor: name, reason: "negative dimension in shape \(shape)")
            }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 48 else { throw .badTensor(path: path, tensor: name, reason: "absurd shape \(shape)") }
            n = p
        }
        return n
    }

    /// The same tensor under another name.
    func renamed(_ newName: String) -> StoredTensor {
        var t = self
        t.name = newName
        return t
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Row-major contiguous strides for `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in shape.indices.reversed() {
            s[i] = acc
            acc *= max(shape[i], 1)
        }
        return s
    }

    /// True if the elements are row-major contiguous (strides of size-1 dimensions are ignored).
    public var isContiguous: Bool {
        var expected = 1
        for i in shape.indices.reversed() where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    public var description: String { "\(name): \(dtype)\(shape)" }

    /// The tensor as Float32. Zero-copy (borrows the mapping) when stored as contiguous, 4-byte aligned
    /// float32; otherwise converted or gathered into new memory.
    public func float32() -> Tensor {
        let n = count
        let first = storage + storageOffset * dtype.size
        if dtype == .float32, isContiguous, Int(bitPattern: first) % MemoryLayout<Float>.alignment == 0 {
            let p = first.assumingMemoryBound(to: Float.self)
            return Tensor(shape: shape, storage: TensorStorage(borrowing: p, count: n, owner: owner))
        }
        var out = Tensor(zeros: shape)
        let dst = out.mutablePointer()
        if isContiguous {
            Self.convert(dtype, from: first, to: dst, count: n)
        } else {
            forEachRun { dstIndex, srcElement, runLength, runStride in
                for j in 0..<runLength {
                    Self.convert(
                        dtype, from: storage + (srcElement + j * runStride) * dtype.size, to: dst + dstIndex + j,
                        count: 1)
                }
            }
        }
        return out
    }

    /// The raw element bytes in the stored dtype, row-major contiguous: borrowed from the mapping when
    /// the tensor is contiguous, otherwise gathered into an owned copy. Use it to keep bf16/f16 weights
    /// unconverted (e.g. a bf16 T5 encoder).
    public func contiguousBytes() -> BorrowedBytes {
        let size = dtype.size
        if isContiguous {
            return BorrowedBytes(pointer: storage + storageOffset * size, count: count * size, owner: owner)
        }
        let buffer = OwnedBytes(count: count * size)
        forEachRun { dstIndex, srcElement, runLength, runStride in
            for j in 0..<runLength {
                (buffer.pointer + (dstIndex + j) * size).copyMemory(
                    from: storage + (srcElement + j * runStride) * size, byteCount: size)
            }
        }
        return BorrowedBytes(pointer: UnsafeRawPointer(buffer.pointer), count: count * size, owner: buffer)
    }

    /// The elements as bfloat16 bit patterns (row-major): bf16 storage is copied as is, float32 and
    /// float16 are rounded to nearest-even; other dtypes go through Float.
    public func bfloat16Bits() -> [UInt16] {
        let bytes = contiguousBytes()
        let n = count
        return withExtendedLifetime(bytes.owner) {
            [UInt16](unsafeUninitializedCapacity: n) { out, initialized in
                guard let dst = out.baseAddress else { initialized = 0; return }
                if dtype == .bfloat16 {
                    if n > 0 { UnsafeMutableRawPointer(dst).copyMemory(from: bytes.pointer, byteCount: n * 2) }
                } else {
                    let tmp = Tensor(shape: [n], storage: TensorStorage(count: n))
                    Self.convert(dtype, from: bytes.pointer, to: tmp.storage.pointer, count: n)
                    for i in 0..<n { dst[i] = Self.bfloat16(tmp.storage.pointer[i]) }
                }
                initialized = n
            }
        }
    }

    /// Round-to-nearest-even float32 -> bfloat16 bits (NaN stays NaN).
    @inline(__always) static func bfloat16(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if x.isNaN { return UInt16(b >> 16) | 0x40 }
        let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    /// Visits the elements in row-major order as runs along the last dimension:
    /// (destination index, source element index, run length, source stride).
    private func forEachRun(_ body: (Int, Int, Int, Int) -> Void) {
        let n = count
        guard n > 0 else { return }
        guard let lastDim = shape.last else { body(0, storageOffset, 1, 1); return }
        let lastStride = strides[strides.count - 1]
        let outer = shape.dropLast()
        var index = [Int](repeating: 0, count: outer.count)
        var dst = 0
        while dst < n {
            var src = storageOffset
            for (i, v) in index.enumerated() { src += v * strides[i] }
            body(dst, src, lastDim, lastStride)
            dst += lastDim
            var k = index.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }

    /// Converts `count` contiguous elements of `dtype` to Float32 (parallel for large counts).
    static func convert(
        _ dtype: StoredDType, from src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count: Int
    ) {
        guard count > 0 else { return }
        if count >= 1 << 20 {
            Parallel.forRange(count, grain: 1 << 18) { r in
                convertRange(dtype, from: src + r.lowerBound * dtype.size, to: dst + r.lowerBound, count: r.count)
            }
        } else {
            convertRange(dtype, from: src, to: dst, count: count)
        }
    }

    private static func convertRange(
        _ dtype: StoredDType, from src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count n: Int
    ) {
        // Unaligned loads: checkpoint data need not be aligned to the element size.
        switch dtype {
        case .float32:
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
        case .float16:
            for i in 0..<n {
                dst[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bfloat16:
            for i in 0..<n {
                dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .float64:
            for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .int64:
            for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        case .int32:
            for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .int16:
            for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .int8:
            for i in 0..<n { dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        case .uint8:
            for i in 0..<n { dst[i] = Float(src.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool:
            for i in 0..<n { dst[i] = src.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
        }
    }
}
