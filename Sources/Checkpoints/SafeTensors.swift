// safetensors files: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
// name to {dtype, shape, data_offsets [begin, end)} (plus an optional "__metadata__" string map),
// then the data buffer. Read by mmap (tensors borrow it); also written, e.g. to convert a .pt once.

import Foundation
import TensorCore

/// Reading and writing safetensors files.
public enum SafeTensors {
    /// Largest header accepted (the reference implementation's limit is 100 MB).
    static let maxHeaderBytes = 100_000_000

    static let dtypes: [String: StoredDType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I64": .int64, "I32": .int32,
        "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    /// Reads the header of a mapped safetensors file; tensors are validated and borrow the mapping.
    static func read(_ file: MappedFile) throws(CheckpointError) -> (StateDict, metadata: [String: String]) {
        let path = file.path
        func bad(_ r: String) -> CheckpointError { .badHeader(path: path, reason: r) }
        guard let n64 = file.uint(at: 0, width: 8) else {
            throw bad("file of \(file.count) bytes has no header length")
        }
        guard n64 <= UInt64(min(file.count - 8, maxHeaderBytes)) else {
            throw bad("header length \(n64) exceeds the file size \(file.count) (or the \(maxHeaderBytes)-byte limit)")
        }
        let n = Int(n64)
        guard let headerBytes = file.slice(offset: 8, length: n) else { throw bad("header out of range") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(headerBytes)) } catch {
            throw bad("header is not JSON")
        }
        guard let header = json as? [String: Any] else { throw bad("header is not a JSON object") }
        let dataStart = 8 + n
        let dataSize = file.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [(name: String, begin: Int, tensor: StoredTensor)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw bad("__metadata__['\(k)'] is not a string") }
                    metadata[k] = s
                }
                continue
            }
            func badT(_ r: String) -> CheckpointError { .badTensor(path: path, tensor: name, reason: r) }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any]
            else { throw badT("header entry lacks dtype, shape or data_offsets") }
            guard let dtype = dtypes[dtypeName] else {
                throw badT(
                    "unsupported dtype \(dtypeName) (supported: \(dtypes.keys.sorted().joined(separator: ", ")))")
            }
            let shape = try integers(shapeAny, name: name, path: path, what: "shape")
            let offsets = try integers(offsetsAny, name: name, path: path, what: "data_offsets")
            guard offsets.count == 2, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw badT("data_offsets \(offsets) outside the data buffer of \(dataSize) bytes")
            }
            let count = try StoredTensor.elementCount(shape, path: path, name: name)
            guard offsets[1] - offsets[0] == count * dtype.size else {
                throw badT(
                    "shape \(shape) of \(dtypeName) needs \(count * dtype.size) bytes, data_offsets span \(offsets[1] - offsets[0])"
                )
            }
            let tensor = try StoredTensor(
                name: name, file: file, dtype: dtype, shape: shape, strides: StoredTensor.contiguousStrides(shape),
                storageOffset: 0, storageByteOffset: dataStart + offsets[0], storageCount: count)
            entries.append((name, offsets[0], tensor))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        let dict = StateDict(
            path: path, names: entries.map(\.name),
            tensors: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.tensor) }))
        return (dict, metadata)
    }

    private static func integers(_ values: [Any], name: String, path: String, what: String) throws(CheckpointError)
        -> [Int]
    {
        var out: [Int] = []
        for v in values {
            guard let number = v as? NSNumber, let d = Double(exactly: number.doubleValue),
                d >= 0, d < 9.0e15, d == d.rounded()
            else {
                throw .badTensor(path: path, tensor: name, reason: "\(what) holds \(v), not a non-negative integer")
            }
            out.append(Int(d))
        }
        return out
    }

    /// One tensor to write: raw little-endian row-major bytes of `dtype`.
    public struct Entry {
        public let name: String
        public let dtype: StoredDType
        public let shape: [Int]
        public let bytes: [UInt8]

        public init(name: String, dtype: StoredDType, shape: [Int], bytes: [UInt8]) {
            precondition(
                shape.reduce(1, *) * dtype.size == bytes.count,
                "\(name): \(bytes.count) bytes do not fit \(dtype)\(shape)")
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// A float32 tensor.
        public init(name: String, tensor: Tensor) {
            self.init(
                name: name, dtype: .float32, shape: tensor.shape,
                bytes: tensor.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) })
        }

        /// A stored tensor, kept in its dtype.
        public init(_ stored: StoredTensor, name: String? = nil) {
            let b = stored.contiguousBytes()
            let bytes = withExtendedLifetime(b.owner) {
                Array(UnsafeRawBufferPointer(start: b.pointer, count: b.count))
            }
            self.init(name: name ?? stored.name, dtype: stored.dtype, shape: stored.shape, bytes: bytes)
        }
    }

    /// Writes `entries` (in order) as a safetensors file, atomically.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to url: URL) throws(CheckpointError)
    {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for e in entries {
            guard header[e.name] == nil else { throw .duplicateTensor(path: url.path, tensor: e.name) }
            guard let code = dtypes.first(where: { $0.value == e.dtype })?.key else {
                throw .badTensor(path: url.path, tensor: e.name, reason: "no safetensors dtype for \(e.dtype)")
            }
            header[e.name] =
                ["dtype": code, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]] as [String: Any]
            offset += e.bytes.count
        }
        var json: [UInt8]
        do { json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) } catch {
            throw .io(path: url.path, reason: "cannot encode header: \(error)")
        }
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)  // pad so data is 8-byte aligned
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for e in entries { out.append(contentsOf: e.bytes) }
        do { try out.write(to: url, options: .atomic) } catch {
            throw .io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
