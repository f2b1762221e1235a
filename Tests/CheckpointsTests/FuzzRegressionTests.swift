// Inputs found by fuzzing the checkpoint readers (scripts/fuzz, targets npy and zip). Each crashed or
// recursed without end before its fix; now each gives a defined value or a CheckpointError naming
// the file.

import Checkpoints
import Foundation
import XCTest

final class CheckpointFuzzRegressionTests: XCTestCase {
    private var cleanup: [URL] = []
    override func tearDown() {
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
        cleanup = []
    }

    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-regression-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        cleanup.append(url)
        return url
    }

    /// A version 1.0 .npy of `descr` and shape (count,) holding `payload` (little-endian elements).
    private func npy(_ descr: String, count: Int, payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(count),), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        out.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: payload)
        return out
    }

    private func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// npy: `ints()` of a float array holding NaN or ±infinity trapped ("Float value cannot be
    /// converted to Int because it is either infinite or NaN"); out-of-range values trapped too.
    func testIntsOfNonFiniteOrHugeFloatsDoNotTrap() throws {
        let f32: [Float] = [.nan, .infinity, -.infinity, 3e38, -2.5, 7.9]
        let a = try NumPy.parse(npy("<f4", count: f32.count, payload: bytes(f32)), path: "f4.npy")
        XCTAssertEqual(a.ints(), [0, .max, .min, .max, -2, 7])
        let f64: [Double] = [.nan, 1e300, -1e300, 9.3e18, -9.3e18, -9_223_372_036_854_775_808, 42]
        let b = try NumPy.parse(npy("<f8", count: f64.count, payload: bytes(f64)), path: "f8.npy")
        XCTAssertEqual(b.ints(), [0, .max, .min, .max, .min, .min, 42])
        // Integer dtypes are unchanged.
        let i64: [Int64] = [.max, .min, -1]
        XCTAssertEqual(
            try NumPy.parse(npy("<i8", count: 3, payload: bytes(i64)), path: "i8.npy").ints(), [.max, .min, -1])
    }

    /// zip: a shard index that names itself as a shard was opened again and again until the stack
    /// overflowed (the fuzzer wrote `{"weight_map":{"a":"model.pt"}}` to model.pt).
    func testShardIndexNamingItselfIsAnError() throws {
        let dir = try folder()
        let index = dir.appendingPathComponent("model.pt")
        try Data(#"{"weight_map":{"a":"model.pt"}}"#.utf8).write(to: index)
        XCTAssertThrowsError(try Checkpoint.open(index)) { error in
            XCTAssertEqual(
                error as? CheckpointError, .badIndex(path: index.path, reason: "shard 'model.pt' is itself an index"))
        }
    }

    /// zip: two indexes naming each other, and a shard that is a folder whose weights are an index.
    func testShardIndexCyclesAreErrors() throws {
        let dir = try folder()
        let a = dir.appendingPathComponent("a.index.json")
        let b = dir.appendingPathComponent("b.index.json")
        try Data(#"{"weight_map":{"x":"b.index.json"}}"#.utf8).write(to: a)
        try Data(#"{"weight_map":{"x":"a.index.json"}}"#.utf8).write(to: b)
        XCTAssertThrowsError(try Checkpoint.open(a)) { error in
            XCTAssertEqual(
                error as? CheckpointError, .badIndex(path: a.path, reason: "shard 'b.index.json' is itself an index"))
        }
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Data(#"{"weight_map":{"x":"../model.safetensors.index.json"}}"#.utf8)
            .write(to: sub.appendingPathComponent("model.safetensors.index.json"))
        let top = dir.appendingPathComponent("model.safetensors.index.json")
        try Data(#"{"weight_map":{"x":"sub"}}"#.utf8).write(to: top)
        XCTAssertThrowsError(try Checkpoint.open(dir)) { error in
            XCTAssertEqual(
                error as? CheckpointError, .badIndex(path: top.path, reason: "shard 'sub' is itself an index"))
        }
    }
}
