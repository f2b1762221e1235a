// Test-only writers: pickle bytes built opcode by opcode, and zip archives laid out like torch.save
// (stored entries, data 64-byte aligned, optional zip64 records). Used to make f16/bf16/strided and
// hostile checkpoints that the golden fixtures do not contain.

import Checkpoints
import Foundation

/// Pickle protocol-2 bytes, written opcode by opcode.
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]
    private var memoCount = 0

    mutating func op(_ b: UInt8) { bytes.append(b) }
    mutating func mark() { op(0x28) }
    mutating func emptyDict() { op(0x7D) }
    mutating func emptyTuple() { op(0x29) }
    mutating func tuple() { op(0x74) }
    mutating func reduce() { op(0x52) }
    mutating func setItem() { op(0x73) }
    mutating func setItems() { op(0x75) }
    mutating func stop() { op(0x2E) }
    mutating func newFalse() { op(0x89) }
    mutating func binPersId() { op(0x51) }
    mutating func build() { op(0x62) }
    mutating func put() {
        op(0x72)
        le(UInt32(memoCount))
        memoCount += 1
    }
    mutating func string(_ s: String) {
        op(0x58)
        le(UInt32(s.utf8.count))
        bytes += Array(s.utf8)
    }
    mutating func global(_ module: String, _ name: String) {
        op(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }
    mutating func int(_ v: Int) {
        if v >= 0, v < 256 {
            op(0x4B); bytes.append(UInt8(v))
        } else if v >= Int(Int32.min), v <= Int(Int32.max) {
            op(0x4A); le(UInt32(bitPattern: Int32(v)))
        } else {
            op(0x8A); bytes.append(8); le(UInt64(bitPattern: Int64(v)))
        }
    }
    mutating func intTuple(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }
    mutating func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
}

/// A tensor to pickle: a view of a storage.
struct FakeTensor {
    var storage: String
    var offset: Int
    var shape: [Int]
    var strides: [Int]
    var parameter = false
}

/// A storage to write: its torch class name ("FloatStorage", …) and raw bytes.
struct FakeStorage {
    var className: String
    var elementSize: Int
    var bytes: [UInt8]
    var count: Int { bytes.count / elementSize }
}

enum TorchFileWriter {
    /// Pickle of {outer: OrderedDict(name -> tensor)} (or a bare OrderedDict when `outer` is nil),
    /// written the way torch.save does it.
    static func pickle(
        _ groups: [(outer: String?, tensors: [(String, FakeTensor)])], storages: [String: FakeStorage]
    ) -> [UInt8] {
        var p = PickleBuilder()
        let wrapped = groups.first?.outer != nil
        if wrapped { p.emptyDict(); p.put(); p.mark() }
        for group in groups {
            if let outer = group.outer { p.string(outer) }
            p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce(); p.put()
            for (name, t) in group.tensors {
                p.string(name)
                if t.parameter { p.global("torch._utils", "_rebuild_parameter"); p.mark() }
                p.global("torch._utils", "_rebuild_tensor_v2")
                p.mark()
                p.mark()
                p.string("storage")
                p.global("torch", storages[t.storage]?.className ?? "FloatStorage")
                p.string(t.storage)
                p.string("cpu")
                p.int(storages[t.storage]?.count ?? 0)
                p.tuple()
                p.binPersId()
                p.int(t.offset)
                p.intTuple(t.shape)
                p.intTuple(t.strides)
                p.newFalse()
                p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce()
                p.tuple()
                p.reduce()
                if t.parameter {
                    p.newFalse(); p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce(); p.tuple();
                    p.reduce()
                }
                p.setItem()
            }
            // torch attaches _metadata with BUILD; the reader ignores it.
            p.emptyDict(); p.string("version"); p.int(1); p.setItem(); p.build()
        }
        if wrapped { p.setItems() }
        p.stop()
        return p.bytes
    }

    /// A torch.save-style zip: <top>/data.pkl, <top>/byteorder, <top>/data/<key>, <top>/version.
    static func archive(top: String, pickle: [UInt8], storages: [String: FakeStorage], zip64: Bool = false) -> [UInt8] {
        var entries: [(String, [UInt8])] = [("\(top)/data.pkl", pickle), ("\(top)/byteorder", Array("little".utf8))]
        for key in storages.keys.sorted() { entries.append(("\(top)/data/\(key)", storages[key]?.bytes ?? [])) }
        entries.append(("\(top)/version", Array("3\n".utf8)))
        return zip(entries, zip64: zip64)
    }

    /// A zip of stored entries, each entry's data 64-byte aligned (padding in the local extra field).
    static func zip(_ entries: [(String, [UInt8])], zip64: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le<T: FixedWidthInteger>(_ v: T, _ buf: inout [UInt8]) {
            withUnsafeBytes(of: v.littleEndian) { buf += $0 }
        }
        for (name, data) in entries {
            let offset = out.count
            let nameBytes = Array(name.utf8)
            let pad = (64 - (offset + 30 + nameBytes.count + 4) % 64) % 64
            le(UInt32(0x0403_4b50), &out); le(UInt16(20), &out); le(UInt16(0), &out); le(UInt16(0), &out)
            le(UInt32(0), &out); le(crc32(data), &out)
            le(UInt32(data.count), &out); le(UInt32(data.count), &out)
            le(UInt16(nameBytes.count), &out); le(UInt16(4 + pad), &out)
            out += nameBytes
            le(UInt16(0x4246), &out); le(UInt16(pad), &out); out += [UInt8](repeating: 0x5A, count: pad)
            out += data
            // Central header; with zip64, sizes and offset go to the extra field.
            le(UInt32(0x0201_4b50), &central); le(UInt16(45), &central); le(UInt16(45), &central)
            le(UInt16(0), &central); le(UInt16(0), &central); le(UInt32(0), &central); le(crc32(data), &central)
            let big: UInt32 = 0xFFFF_FFFF
            le(zip64 ? big : UInt32(data.count), &central); le(zip64 ? big : UInt32(data.count), &central)
            le(UInt16(nameBytes.count), &central); le(UInt16(zip64 ? 28 : 0), &central); le(UInt16(0), &central)
            le(UInt16(0), &central); le(UInt16(0), &central); le(UInt32(0), &central)
            le(zip64 ? big : UInt32(offset), &central)
            central += nameBytes
            if zip64 {
                le(UInt16(1), &central); le(UInt16(24), &central)
                le(UInt64(data.count), &central); le(UInt64(data.count), &central); le(UInt64(offset), &central)
            }
        }
        let cdOffset = out.count
        out += central
        if zip64 {
            let end64 = out.count
            le(UInt32(0x0606_4b50), &out); le(UInt64(44), &out); le(UInt16(45), &out); le(UInt16(45), &out)
            le(UInt32(0), &out); le(UInt32(0), &out)
            le(UInt64(entries.count), &out); le(UInt64(entries.count), &out)
            le(UInt64(central.count), &out); le(UInt64(cdOffset), &out)
            le(UInt32(0x0706_4b50), &out); le(UInt32(0), &out); le(UInt64(end64), &out); le(UInt32(1), &out)
        }
        le(UInt32(0x0605_4b50), &out); le(UInt16(0), &out); le(UInt16(0), &out)
        le(UInt16(zip64 ? 0xFFFF : entries.count), &out); le(UInt16(zip64 ? 0xFFFF : entries.count), &out)
        le(UInt32(zip64 ? 0xFFFF_FFFF : central.count), &out); le(UInt32(zip64 ? 0xFFFF_FFFF : cdOffset), &out)
        le(UInt16(0), &out)
        return out
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    /// Little-endian bytes of float32 values.
    static func f32(_ v: [Float]) -> [UInt8] {
        v.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } }
    }
    /// Little-endian bytes of float16 values.
    static func f16(_ v: [Float]) -> [UInt8] {
        v.flatMap { x in withUnsafeBytes(of: Float16(x).bitPattern.littleEndian) { Array($0) } }
    }
    /// Little-endian bytes of bfloat16 values (truncated; tests use exactly representable values).
    static func bf16(_ v: [Float]) -> [UInt8] {
        v.flatMap { x in withUnsafeBytes(of: UInt16(x.bitPattern >> 16).littleEndian) { Array($0) } }
    }

    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)-\(name)")
    }

    static func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = temporaryURL(name)
        try Data(bytes).write(to: url)
        return url
    }
}
