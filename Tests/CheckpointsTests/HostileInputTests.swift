// Hostile and broken inputs: a pickle calling os.system, unknown opcodes, stack games, deep nesting,
// truncated and corrupted zips, bad safetensors headers, absurd or overflowing shapes, tensors that
// reach past their storage, and a byte-flip sweep over a real fixture. Each must give a
// CheckpointError (or, for harmless flips, a valid result), never a crash.

import Checkpoints
import Foundation
import TestSupport
import XCTest

final class HostileInputTests: XCTestCase {
    private var cleanup: [URL] = []
    override func tearDown() {
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
        cleanup = []
    }

    private func file(_ bytes: [UInt8], _ name: String = "h.pt") throws -> URL {
        let url = try TorchFileWriter.write(bytes, name)
        cleanup.append(url)
        return url
    }

    /// Opens `bytes` and expects a CheckpointError whose text contains `needle`.
    private func expectError(
        _ bytes: [UInt8], _ needle: String, name: String = "h.pt", file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let url = try self.file(bytes, name)
        XCTAssertThrowsError(try Checkpoint.open(url).stateDict(), file: file, line: line) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(needle), "'\(error)' should mention '\(needle)'", file: file, line: line)
            XCTAssertTrue("\(error)".contains(url.path), "'\(error)' should name the file", file: file, line: line)
        }
    }

    private func zipWithPickle(_ pickle: [UInt8], storages: [String: FakeStorage] = [:]) -> [UInt8] {
        TorchFileWriter.archive(top: "archive", pickle: pickle, storages: storages)
    }

    private let oneStorage = [
        "0": FakeStorage(className: "FloatStorage", elementSize: 4, bytes: TorchFileWriter.f32([1, 2, 3, 4]))
    ]

    private func tensorPickle(offset: Int, shape: [Int], strides: [Int], numel: Int = 4) -> [UInt8] {
        var s = oneStorage
        s["0"]?.bytes = TorchFileWriter.f32([1, 2, 3, 4])
        let t = FakeTensor(storage: "0", offset: offset, shape: shape, strides: strides)
        var bytes = TorchFileWriter.pickle([(nil, [("w", t)])], storages: s)
        if numel != 4 {  // patch the numel in the persistent id (BININT1 4 right after 'cpu')
            let cpu = Array("cpu".utf8)
            if let i = (0..<bytes.count - 5).first(where: { Array(bytes[$0..<$0 + 3]) == cpu }) {
                var p = PickleBuilder(); p.bytes = []; p.int(numel)
                bytes.replaceSubrange(i + 3..<i + 5, with: p.bytes)
            }
        }
        return bytes
    }

    func testForeignGlobalIsRefusedWithoutExecuting() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("pwned-\(UUID().uuidString)")
        var p = PickleBuilder()
        p.global("os", "system")
        p.string("touch \(marker.path)")
        p.op(0x85)  // TUPLE1
        p.reduce()
        p.stop()
        try expectError(zipWithPickle(p.bytes), "os.system")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path), "nothing may be executed")

        for (module, name) in [
            ("builtins", "eval"), ("__builtin__", "getattr"), ("torch", "load"),
            ("numpy.core.multiarray", "_reconstruct"),
        ] {
            var q = PickleBuilder()
            q.global(module, name)
            q.stop()
            try expectError(zipWithPickle(q.bytes), "\(module).\(name)")
        }
        // STACK_GLOBAL (protocol 4) goes through the same allow-list.
        var q = PickleBuilder()
        q.op(0x8C); q.bytes += [5] + Array("posix".utf8)
        q.op(0x8C); q.bytes += [6] + Array("system".utf8)
        q.op(0x93)
        q.stop()
        try expectError(zipWithPickle(q.bytes), "posix.system")
    }

    func testMalformedPickles() throws {
        let cases: [([UInt8], String)] = [
            ([0x80, 0x02, 0x7D], "without STOP"),  // truncated
            ([0x80, 0x02, 0x2E], "stack"),  // STOP on an empty stack
            ([0x80, 0x02, 0x30, 0x2E], "underflow"),  // POP on an empty stack
            ([0x80, 0x02, 0x69, 0x2E], "unsupported pickle opcode 0x69"),  // INST
            ([0x80, 0x02, 0x81, 0x2E], "unsupported pickle opcode 0x81"),  // NEWOBJ
            ([0x80, 0x02, 0x68, 0x07, 0x2E], "memo entry 7"),  // BINGET of nothing
            ([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], "truncated"),  // string longer than the pickle
            ([0x80, 0x02, 0x4B, 0x01, 0x4B, 0x02, 0x73, 0x2E], "not a dict"),  // SETITEM on an int
            ([0x80, 0x02, 0x29, 0x29, 0x52, 0x2E], "not an allowed global"),  // REDUCE on a tuple
            ([0x80, 0x02, 0x4B, 0x01, 0x51, 0x2E], "persistent id"),  // BINPERSID of an int
            // LONG1 of 9 bytes
            ([0x80, 0x02, 0x8A, 0x09] + [UInt8](repeating: 0xFF, count: 9) + [0x2E], "out of range"),
            ([0x80, 0x02, 0x28, 0x74, 0x74, 0x2E], "MARK"),  // TUPLE without a MARK
        ]
        for (bytes, needle) in cases { try expectError(zipWithPickle(bytes), needle) }
        // A non-dict top level, and a dict with a non-tensor value, are structural errors.
        try expectError(zipWithPickle([0x80, 0x02, 0x4B, 0x05, 0x2E]), "not a dict")
        try expectError(
            zipWithPickle([0x80, 0x02, 0x7D, 0x58, 1, 0, 0, 0, 0x61, 0x4B, 0x05, 0x73, 0x2E]), "'a' is not a tensor")
        // The storage class may only be used inside a persistent id.
        var p = PickleBuilder(); p.global("torch", "FloatStorage"); p.emptyTuple(); p.reduce(); p.stop()
        try expectError(zipWithPickle(p.bytes), "persistent id")
    }

    func testDeepNestingAndCyclesAreErrorsNotStackOverflows() throws {
        // 200,000 nested lists built bottom-up (EMPTY_LIST × n, APPEND × n-1).
        let n = 200_000
        var deep: [UInt8] =
            [0x80, 0x02] + [UInt8](repeating: 0x5D, count: n) + [UInt8](repeating: 0x61, count: n - 1) + [0x2E]
        try expectError(zipWithPickle(deep), "nested deeper")
        // Nested top-down through the memo: L0 = []; for each k: get L_k, new list, put, append.
        deep = [0x80, 0x02, 0x5D, 0x72, 0, 0, 0, 0]
        for k in 0..<50_000 {
            deep += [0x6A] + withUnsafeBytes(of: UInt32(k).littleEndian, Array.init)
            deep += [0x5D, 0x72] + withUnsafeBytes(of: UInt32(k + 1).littleEndian, Array.init) + [0x61, 0x30]
        }
        deep += [0x2E]
        try expectError(zipWithPickle(deep), "nested deeper")
        // A dict that contains itself.
        let cyclic: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x58, 1, 0, 0, 0, 0x61, 0x68, 0x00, 0x73, 0x2E]
        try expectError(zipWithPickle(cyclic), "cycle")
    }

    func testTensorsThatDoNotFitTheirStorage() throws {
        try expectError(
            zipWithPickle(tensorPickle(offset: 0, shape: [5], strides: [1]), storages: oneStorage), "storage holds 4")
        try expectError(
            zipWithPickle(tensorPickle(offset: 3, shape: [2], strides: [1]), storages: oneStorage), "reaches element 4")
        try expectError(
            zipWithPickle(tensorPickle(offset: 0, shape: [2, 2], strides: [3, 1]), storages: oneStorage),
            "reaches element 4")
        try expectError(
            zipWithPickle(tensorPickle(offset: 0, shape: [-1], strides: [1]), storages: oneStorage),
            "negative dimension")
        try expectError(
            zipWithPickle(tensorPickle(offset: 0, shape: [2], strides: [-1]), storages: oneStorage), "negative stride")
        try expectError(
            zipWithPickle(tensorPickle(offset: -1, shape: [2], strides: [1]), storages: oneStorage),
            "negative storage offset")
        try expectError(
            zipWithPickle(tensorPickle(offset: 0, shape: [1 << 40, 1 << 40], strides: [1, 1]), storages: oneStorage),
            "absurd shape")
        try expectError(
            zipWithPickle(
                tensorPickle(offset: 0, shape: [3, 2], strides: [Int.max / 2 + 1, 1]), storages: oneStorage), "overflow"
        )
        // The persistent id claims more elements than the data entry holds, or an absurd count.
        try expectError(
            zipWithPickle(tensorPickle(offset: 0, shape: [4], strides: [1], numel: 1000), storages: oneStorage),
            "claims 1000")
        try expectError(
            zipWithPickle(
                tensorPickle(offset: 0, shape: [4], strides: [1], numel: Int(Int64.max)), storages: oneStorage),
            "claims")
        // A storage without a data entry.
        try expectError(zipWithPickle(tensorPickle(offset: 0, shape: [4], strides: [1])), "has no entry")
    }

    func testTruncatedAndCorruptZips() throws {
        let good = [UInt8](try Data(contentsOf: Fixtures.suite("c2v").appendingPathComponent("ckpt_uncond.pt")))
        // Truncation anywhere loses the end-of-central-directory record or leaves offsets past the end.
        for fraction in [0.0, 0.1, 0.5, 0.9, 0.999] {
            let cut = Int(Double(good.count) * fraction)
            let url = try file(Array(good[..<cut]))
            XCTAssertThrowsError(try Checkpoint.open(url), "cut at \(cut)") { XCTAssertTrue($0 is CheckpointError) }
        }
        try expectError(Array(good[..<(good.count - 30)]), "end-of-central-directory")

        // Central directory offset pointing past the end of the file.
        var bad = good
        let eocd = try XCTUnwrap(
            (0..<bad.count - 3).last { bad[$0] == 0x50 && bad[$0 + 1] == 0x4B && bad[$0 + 2] == 5 && bad[$0 + 3] == 6 })
        bad.replaceSubrange(eocd + 16..<eocd + 20, with: [0xF0, 0xFF, 0xFF, 0x7F])
        try expectError(bad, "outside the file")
        // Entry count that cannot fit the directory.
        bad = good
        bad.replaceSubrange(eocd + 10..<eocd + 12, with: [0xFE, 0xFF])
        try expectError(bad, "cannot fit")
        // A compressed (deflated) data.pkl is refused with a clear reason.
        bad = good
        let cd = Int(bad[eocd + 16]) | Int(bad[eocd + 17]) << 8 | Int(bad[eocd + 18]) << 16 | Int(bad[eocd + 19]) << 24
        bad[cd + 10] = 8
        try expectError(bad, "compressed")
        // Not a zip at all / a legacy bare pickle / empty file.
        try expectError([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC], "legacy")
        try expectError([], "not a recognised checkpoint")
        try expectError(Array("hello world, not weights".utf8), "not a recognised checkpoint")
    }

    func testBadSafetensorsHeaders() throws {
        func st(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
            let h = Array(header.utf8)
            return withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian, Array.init) + h + data
        }
        let four = TorchFileWriter.f32([1, 2, 3, 4])
        let ok = #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        XCTAssertEqual(
            try Checkpoint.open(file(st(ok, data: four), "ok.safetensors")).stateDict()["w"]?.float32().scalars,
            [1, 2, 3, 4])
        // A header of 123 bytes: the file starts with '{' (0x7B), yet it is safetensors, not an index JSON.
        let padded = ok + String(repeating: " ", count: 123 - ok.utf8.count)
        XCTAssertEqual(try Checkpoint.open(file(st(padded, data: four), "b.safetensors")).format, .safetensors)
        try expectError(st(ok, data: four, length: 1 << 40), "exceeds the file size", name: "a.safetensors")
        try expectError(st(ok, data: four, length: UInt64.max), "exceeds the file size", name: "a.safetensors")
        try expectError(st("{not json", data: four), "not JSON", name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}}"#, data: four), "outside the data buffer",
            name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}}"#, data: four), "needs 24 bytes",
            name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}"#, data: four),
            "not a non-negative integer", name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#, data: four),
            "absurd shape", name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F32","shape":[1e300],"data_offsets":[0,16]}}"#, data: four),
            "not a non-negative integer", name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#, data: four), "unsupported dtype F8_E4M3",
            name: "a.safetensors")
        try expectError(st(#"{"w":{"dtype":"F32","shape":[4]}}"#, data: four), "lacks", name: "a.safetensors")
        try expectError(
            st(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: four), "outside", name: "a.safetensors"
        )
    }

    func testByteFlipSweepNeverCrashes() throws {
        // Flip bytes across a real torch file (pickle region densely, the rest sparsely): every
        // outcome must be a CheckpointError or a readable state dict.
        let good = [UInt8](
            try Data(
                contentsOf: Fixtures.suite("vae").appendingPathComponent("model/legacy_bin/diffusion_pytorch_model.bin")
            ))
        var positions =
            Array(stride(from: 0, to: 31_000, by: 181)) + Array(stride(from: 31_000, to: good.count, by: 16_411))
        positions += Array(good.count - 4000..<good.count).filter { $0 % 37 == 0 }
        var errors = 0
        let url = TorchFileWriter.temporaryURL("flip.bin")
        cleanup.append(url)
        for (k, pos) in positions.enumerated() {
            var bytes = good
            bytes[pos] ^= [0xFF, 0x01, 0x80, 0x7F][k % 4]
            try Data(bytes).write(to: url)
            do {
                let sd = try Checkpoint.open(url).stateDict()
                for name in sd.names.prefix(3) { _ = sd[name]?.float32() }
            } catch {
                errors += 1  // typed throws: always a CheckpointError
            }
        }
        XCTAssertGreaterThan(errors, 0)
    }
}
