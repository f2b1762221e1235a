// NumPy .npy files (format versions 1.0–3.0): read float32, float64, int64, int32 and uint8 arrays
// (little-endian, C order) and write float32, int64 and uint8 ones. Used for fixtures, debugging and
// users' own latents or frames.

import Foundation
import TensorCore

/// Errors reading or writing .npy files; each names the file.
public enum NumPyError: Error, CustomStringConvertible {
    case io(path: String, reason: String)
    case badHeader(path: String, reason: String)
    case unsupportedDType(path: String, descr: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case wrongDType(path: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .io(let p, let r): return "\(p): \(r)"
        case .badHeader(let p, let r): return "\(p): not a valid .npy file (\(r))"
        case .unsupportedDType(let p, let d):
            return "\(p): unsupported dtype '\(d)'; hint: save as float32, float64, int64, int32 or uint8, C order"
        case .truncated(let p, let e, let a): return "\(p): truncated data (expected \(e) bytes, found \(a))"
        case .wrongDType(let p, let e, let a): return "\(p): expected a \(e) array, found \(a)"
        }
    }
}

/// An array read from a .npy file, in its stored element type.
public struct NumPyArray: Sendable {
    public enum DType: String, Sendable {
        case float32 = "<f4", float64 = "<f8", int64 = "<i8", int32 = "<i4", uint8 = "|u1"
        var size: Int {
            switch self {
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            case .uint8: return 1
            }
        }
    }

    public let dtype: DType
    public let shape: [Int]
    /// Raw little-endian element bytes, C order.
    public let bytes: Data
    public var count: Int { shape.reduce(1, *) }

    /// Elements as Float (float32 exact; float64 rounded; integers converted).
    public func floats() -> [Float] {
        switch dtype {
        case .float32: return load(Float.self)
        case .float64: return load(Double.self).map { Float($0) }
        case .int64: return load(Int64.self).map { Float($0) }
        case .int32: return load(Int32.self).map { Float($0) }
        case .uint8: return bytes.map { Float($0) }
        }
    }

    /// Elements as Double (exact for every supported dtype except large int64).
    public func doubles() -> [Double] {
        switch dtype {
        case .float32: return load(Float.self).map { Double($0) }
        case .float64: return load(Double.self)
        case .int64: return load(Int64.self).map { Double($0) }
        case .int32: return load(Int32.self).map { Double($0) }
        case .uint8: return bytes.map { Double($0) }
        }
    }

    /// Elements as Int (integer dtypes exact; floats truncated toward zero). A float that has no Int
    /// value, which a damaged or hostile file may hold, never traps: NaN reads as 0 and ±infinity or
    /// a magnitude beyond Int's range as Int.max / Int.min, so callers' range checks reject it.
    public func ints() -> [Int] {
        switch dtype {
        case .int64: return load(Int64.self).map { Int($0) }
        case .int32: return load(Int32.self).map { Int($0) }
        case .uint8: return bytes.map { Int($0) }
        case .float32: return load(Float.self).map { Self.saturatingInt(Double($0)) }
        case .float64: return load(Double.self).map(Self.saturatingInt)
        }
    }

    /// `Int(x)` truncated toward zero, with NaN as 0 and out-of-range values clamped.
    static func saturatingInt(_ x: Double) -> Int {
        if x.isNaN { return 0 }
        // 2^63 is the first double above Int.max; -2^63 (Int.min) itself converts exactly.
        if x >= 9_223_372_036_854_775_808.0 { return .max }
        if x < -9_223_372_036_854_775_808.0 { return .min }
        return Int(x)
    }

    /// Elements as bytes; only for uint8 arrays.
    public func uint8s() -> [UInt8]? { dtype == .uint8 ? [UInt8](bytes) : nil }

    /// The array as a Float32 tensor of the same shape.
    public func tensor() -> Tensor { Tensor(shape: shape, values: floats()) }

    private func load<T>(_: T.Type) -> [T] {
        bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self).prefix(count)) }
    }
}

/// Reading and writing .npy files.
public enum NumPy {
    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Reads a .npy file.
    public static func read(_ url: URL) throws(NumPyError) -> NumPyArray {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw .io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(data, path: path)
    }

    /// Parses the bytes of a .npy file; `path` is only used in errors.
    public static func parse(_ data: Data, path: String) throws(NumPyError) -> NumPyArray {
        guard data.count >= 10, Array(data.prefix(6)) == magic else {
            throw .badHeader(path: path, reason: "missing \\x93NUMPY magic")
        }
        let major = data[data.startIndex + 6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw .badHeader(path: path, reason: "short header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw .badHeader(path: path, reason: "unknown format version \(major)")
        }
        guard headerStart + headerLength <= data.count else {
            throw .badHeader(path: path, reason: "header length \(headerLength) exceeds file size \(data.count)")
        }
        let headerBytes = data.subdata(in: data.startIndex + headerStart..<data.startIndex + headerStart + headerLength)
        guard let header = String(data: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw .badHeader(path: path, reason: "header is not text")
        }
        let descr = try field("descr", in: header, path: path)
        let order = try field("fortran_order", in: header, path: path)
        let shapeText = try field("shape", in: header, path: path)
        guard order == "False" else {
            throw .badHeader(path: path, reason: "Fortran-order arrays are not supported; save with C order")
        }
        let normalized = descr == "<u1" ? "|u1" : descr
        guard let dtype = NumPyArray.DType(rawValue: normalized) else {
            throw .unsupportedDType(path: path, descr: descr)
        }
        var shape: [Int] = []
        for part in shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",") {
            let s = part.trimmingCharacters(in: .whitespaces)
            if s.isEmpty { continue }
            guard let v = Int(s), v >= 0 else { throw .badHeader(path: path, reason: "bad shape \(shapeText)") }
            shape.append(v)
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow, count <= Int.max / 8 else { throw .badHeader(path: path, reason: "absurd shape \(shape)") }
        let byteCount = count * dtype.size
        let start = data.startIndex + headerStart + headerLength
        guard data.endIndex - start >= byteCount else {
            throw .truncated(path: path, expectedBytes: byteCount, actualBytes: data.endIndex - start)
        }
        return NumPyArray(dtype: dtype, shape: shape, bytes: data.subdata(in: start..<start + byteCount))
    }

    /// Extracts the value of `'key': value` from the header dict text.
    private static func field(_ key: String, in header: String, path: String) throws(NumPyError) -> String {
        guard let keyRange = header.range(of: "'\(key)':") else {
            throw .badHeader(path: path, reason: "header has no '\(key)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw .badHeader(path: path, reason: "unclosed shape") }
            return String(rest[...close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: "'") else { throw .badHeader(path: path, reason: "unclosed string") }
            return String(rest[..<close])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }

    /// Writes a float32 array.
    public static func write(_ tensor: Tensor, to url: URL) throws(NumPyError) {
        let bytes = tensor.withUnsafeBufferPointer { Data(buffer: $0) }
        try write(bytes: bytes, descr: NumPyArray.DType.float32.rawValue, shape: tensor.shape, to: url)
    }

    /// Writes an int64 array.
    public static func write(int64 values: [Int64], shape: [Int], to url: URL) throws(NumPyError) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        let bytes = values.withUnsafeBufferPointer { Data(buffer: $0) }
        try write(bytes: bytes, descr: NumPyArray.DType.int64.rawValue, shape: shape, to: url)
    }

    /// Writes a uint8 array (e.g. (F, H, W, 3) frames).
    public static func write(uint8 values: [UInt8], shape: [Int], to url: URL) throws(NumPyError) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        try write(bytes: Data(values), descr: NumPyArray.DType.uint8.rawValue, shape: shape, to: url)
    }

    private static func write(bytes: Data, descr: String, shape: [Int], to url: URL) throws(NumPyError) {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that the data starts on a 64-byte boundary; the header ends with a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data(magic)
        out.append(contentsOf: [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(bytes)
        do { try out.write(to: url, options: .atomic) } catch {
            throw .io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
