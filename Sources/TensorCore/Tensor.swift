// Tensor: contiguous row-major Float32 storage with a shape. Value semantics with copy-on-write;
// storage may also borrow memory owned by something else (an mmap'd checkpoint), in which case
// it is read-only and copied on the first write.

import Foundation

/// The memory behind a `Tensor`. Either owned (64-byte aligned, freed on deinit) or borrowed from
/// an `owner` that keeps it alive (e.g. a memory-mapped file); borrowed memory is never written.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// False for borrowed memory: a mutation copies it first.
    public let isWritable: Bool
    private let owner: AnyObject?

    /// Owned, zero-filled storage for `count` floats.
    public init(count: Int) {
        precondition(count >= 0, "negative element count \(count)")
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer?
        let rc = posix_memalign(&raw, 64, (bytes + 63) & ~63)
        guard rc == 0, let raw else { fatalError("out of memory allocating \(bytes) bytes") }
        memset(raw, 0, bytes)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.isWritable = true
        self.owner = nil
    }

    /// Borrowed, read-only storage kept alive by `owner`.
    public init(borrowing pointer: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = UnsafeMutablePointer(mutating: pointer)
        self.count = count
        self.isWritable = false
        self.owner = owner
    }

    deinit {
        if owner == nil { free(pointer) }
    }
}

/// A dense Float32 tensor, row-major (the last index varies fastest).
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage

    /// Number of elements (product of `shape`).
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// Zero-filled tensor.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// Tensor holding `values` (row-major) with `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(
            shape.reduce(1, *) == values.count, "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)"
        )
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
    }

    /// Tensor filled with a constant.
    public init(repeating value: Float, shape: [Int]) {
        self.init(zeros: shape)
        if value != 0 { storage.pointer.update(repeating: value, count: count) }
    }

    /// Tensor over existing storage (no copy).
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// Read-only pointer to the elements. Valid while this tensor (or a copy of it) is alive.
    public var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

    /// Writable pointer to the elements; copies first if the storage is shared or borrowed.
    public mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        if !storage.isWritable || !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(count: storage.count)
            copy.pointer.update(from: storage.pointer, count: storage.count)
            storage = copy
        }
        return storage.pointer
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
        }
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        let p = mutablePointer()
        return try withExtendedLifetime(storage) { try body(UnsafeMutableBufferPointer(start: p, count: count)) }
    }

    /// The elements as an array (a copy).
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// Same storage, new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    /// An independent copy with owned, writable storage.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.storage.pointer.update(from: storage.pointer, count: count)
        return t
    }

    public subscript(flat index: Int) -> Float {
        get { storage.pointer[index] }
        set { mutablePointer()[index] = newValue }
    }

    public var description: String { "Tensor\(shape)" }
}
