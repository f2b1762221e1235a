// Checkpoints built in the test: float16/bfloat16/float64 storages, storage offsets, non-contiguous
// strides, tensors sharing one storage, nn.Parameter wrappers, zip64 records, unaligned safetensors
// data, and the raw-bytes / bf16 accessors. Expected values are computed here independently.

import Checkpoints
import Foundation
import TensorCore
import XCTest

final class SyntheticCheckpointTests: XCTestCase {
    private let values: [Float] = (0..<24).map { Float($0) * 0.25 - 2 }  // exact in f16 and bf16

    private func torchFile(zip64: Bool = false) throws -> URL {
        let storages: [String: FakeStorage] = [
            "0": FakeStorage(className: "FloatStorage", elementSize: 4, bytes: TorchFileWriter.f32(values)),
            "1": FakeStorage(className: "HalfStorage", elementSize: 2, bytes: TorchFileWriter.f16(values)),
            "2": FakeStorage(className: "BFloat16Storage", elementSize: 2, bytes: TorchFileWriter.bf16(values)),
            "3": FakeStorage(
                className: "DoubleStorage", elementSize: 8,
                bytes: values.flatMap { withUnsafeBytes(of: Double($0).bitPattern.littleEndian, Array.init) }),
        ]
        let tensors: [(String, FakeTensor)] = [
            ("plain", FakeTensor(storage: "0", offset: 0, shape: [4, 6], strides: [6, 1])),
            ("offset", FakeTensor(storage: "0", offset: 6, shape: [3, 6], strides: [6, 1])),
            ("transposed", FakeTensor(storage: "0", offset: 0, shape: [6, 4], strides: [1, 6])),
            ("half", FakeTensor(storage: "1", offset: 2, shape: [2, 5], strides: [5, 1])),
            ("bf16", FakeTensor(storage: "2", offset: 0, shape: [2, 3, 4], strides: [12, 4, 1])),
            ("bf16_strided", FakeTensor(storage: "2", offset: 1, shape: [3, 2], strides: [8, 3])),
            ("double", FakeTensor(storage: "3", offset: 0, shape: [24], strides: [1])),
            ("scalar", FakeTensor(storage: "0", offset: 5, shape: [], strides: [])),
            ("param", FakeTensor(storage: "0", offset: 0, shape: [2, 2], strides: [6, 1], parameter: true)),
            ("empty", FakeTensor(storage: "0", offset: 0, shape: [0, 3], strides: [3, 1])),
        ]
        let pickle = TorchFileWriter.pickle(
            [("model", tensors), ("ema", Array(tensors.prefix(2)))], storages: storages)
        return try TorchFileWriter.write(
            TorchFileWriter.archive(top: "weird name", pickle: pickle, storages: storages, zip64: zip64), "s.pt")
    }

    /// Reference gather: element [i0, i1, …] = values[offset + Σ i_k * stride_k].
    private func gather(_ offset: Int, _ shape: [Int], _ strides: [Int]) -> [Float] {
        let n = shape.reduce(1, *)
        return (0..<n).map { flat in
            var rem = flat, src = offset
            for k in shape.indices.reversed() {
                src += (rem % shape[k]) * strides[k]
                rem /= shape[k]
            }
            return values[src]
        }
    }

    func testDTypesOffsetsStridesAndNesting() throws {
        for zip64 in [false, true] {
            let url = try torchFile(zip64: zip64)
            defer { try? FileManager.default.removeItem(at: url) }
            let ckpt = try Checkpoint.open(url)
            // "ema" is preferred over "model" although "model" comes first in the file.
            XCTAssertEqual(try ckpt.stateDict(preferring: ["ema", "model"]).names, ["plain", "offset"])
            let sd = try ckpt.stateDict(preferring: ["model"])
            XCTAssertEqual(
                sd.names,
                ["plain", "offset", "transposed", "half", "bf16", "bf16_strided", "double", "scalar", "param", "empty"])
            let store = try WeightStore(sd)
            XCTAssertEqual(try store.tensor("plain", shape: [4, 6]).scalars, values)
            XCTAssertFalse(try store.tensor("plain", shape: [4, 6]).storage.isWritable, "contiguous f32 is borrowed")
            XCTAssertEqual(try store.tensor("offset", shape: [3, 6]).scalars, Array(values[6...]))
            XCTAssertEqual(try store.tensor("transposed", shape: [6, 4]).scalars, gather(0, [6, 4], [1, 6]))
            XCTAssertEqual(try store.tensor("half", shape: [2, 5]).scalars, Array(values[2..<12]))
            XCTAssertEqual(try store.tensor("bf16", shape: [2, 3, 4]).scalars, values)
            XCTAssertEqual(try store.tensor("bf16_strided", shape: [3, 2]).scalars, gather(1, [3, 2], [8, 3]))
            XCTAssertEqual(try store.tensor("double", shape: [24]).scalars, values)
            XCTAssertEqual(try store.tensor("scalar", shape: []).scalars, [values[5]])
            XCTAssertEqual(try store.tensor("param", shape: [2, 2]).scalars, gather(0, [2, 2], [6, 1]))
            XCTAssertEqual(try store.tensor("empty", shape: [0, 3]).count, 0)
            try store.requireAllUsed()
            XCTAssertEqual(sd["half"]?.dtype, .float16)
            XCTAssertEqual(sd["bf16"]?.dtype, .bfloat16)
            XCTAssertEqual(sd["transposed"]?.isContiguous, false)
        }
    }

    func testRawBytesAndBFloat16Bits() throws {
        let url = try torchFile()
        defer { try? FileManager.default.removeItem(at: url) }
        let sd = try Checkpoint.open(url).stateDict(preferring: ["model"])
        let bf16 = try XCTUnwrap(sd["bf16"])
        let raw = bf16.contiguousBytes()
        XCTAssertEqual(raw.count, 48)
        let bits = withExtendedLifetime(raw.owner) {
            (0..<24).map { raw.pointer.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) }
        }
        XCTAssertEqual(bits, values.map { UInt16($0.bitPattern >> 16) })
        XCTAssertEqual(bf16.bfloat16Bits(), bits)
        // float32 and float16 are rounded to bf16 (values here are exact, so rounding is the identity).
        XCTAssertEqual(try XCTUnwrap(sd["plain"]).bfloat16Bits(), bits)
        XCTAssertEqual(try XCTUnwrap(sd["half"]).bfloat16Bits(), Array(bits[2..<12]))
        // Strided tensors are gathered.
        let strided = try XCTUnwrap(sd["bf16_strided"]).bfloat16Bits()
        XCTAssertEqual(strided.map { Float(bitPattern: UInt32($0) << 16) }, gather(1, [3, 2], [8, 3]))
    }

    func testRoundToNearestEvenForBFloat16() throws {
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even one (1.0);
        // 1 + 3·2^-8 rounds up to 1 + 2^-6 (even mantissa).
        let xs: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -1.5, .infinity]
        let url = TorchFileWriter.temporaryURL("r.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write([SafeTensors.Entry(name: "x", tensor: Tensor(shape: [4], values: xs))], to: url)
        let bits = try XCTUnwrap(Checkpoint.open(url).stateDict()["x"]).bfloat16Bits()
        XCTAssertEqual(bits.map { Float(bitPattern: UInt32($0) << 16) }, [1, 1 + 0x1p-6, -1.5, .infinity])
    }

    func testSafetensorsDTypesAndUnalignedData() throws {
        let url = TorchFileWriter.temporaryURL("d.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(
            [
                SafeTensors.Entry(name: "u8", dtype: .uint8, shape: [2], bytes: [7, 9]),  // misaligns what follows
                SafeTensors.Entry(
                    name: "f32", dtype: .float32, shape: [2, 3], bytes: TorchFileWriter.f32(Array(values[..<6]))),
                SafeTensors.Entry(
                    name: "f16", dtype: .float16, shape: [3], bytes: TorchFileWriter.f16(Array(values[..<3]))),
                SafeTensors.Entry(
                    name: "bf16", dtype: .bfloat16, shape: [1, 3], bytes: TorchFileWriter.bf16(Array(values[3..<6]))),
            ], metadata: ["format": "pt"], to: url)
        let ckpt = try Checkpoint.open(url)
        XCTAssertEqual(ckpt.metadata, ["format": "pt"])
        let sd = try ckpt.stateDict()
        XCTAssertEqual(sd.names, ["u8", "f32", "f16", "bf16"], "file (data offset) order")
        XCTAssertEqual(sd["u8"]?.float32().scalars, [7, 9])
        XCTAssertEqual(sd["f32"]?.float32().scalars, Array(values[..<6]))
        XCTAssertEqual(sd["f16"]?.float32().scalars, Array(values[..<3]))
        XCTAssertEqual(sd["bf16"]?.float32().scalars, Array(values[3..<6]))
    }
}
