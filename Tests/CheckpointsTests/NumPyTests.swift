// NumPy .npy reading/writing: round trips and a fixture file written by numpy itself.

import Checkpoints
import Foundation
import TensorCore
import TestSupport
import XCTest

final class NumPyTests: XCTestCase {
    private func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)-\(name)")
    }

    func testFloat32RoundTrip() throws {
        let t = Tensor(shape: [2, 3, 1], values: [1, -2.5, 3, .pi, 1e-30, -0])
        let url = tempURL("f.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try NumPy.write(t, to: url)
        let back = try NumPy.read(url)
        XCTAssertEqual(back.dtype, .float32)
        XCTAssertEqual(back.shape, [2, 3, 1])
        XCTAssertEqual(back.floats(), t.scalars)
    }

    func testInt64AndUInt8RoundTrip() throws {
        let url = tempURL("i.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try NumPy.write(int64: [999, -1, 0], shape: [3], to: url)
        XCTAssertEqual(try NumPy.read(url).ints(), [999, -1, 0])
        try NumPy.write(uint8: [0, 255, 7, 8], shape: [2, 2], to: url)
        let u = try NumPy.read(url)
        XCTAssertEqual(u.uint8s(), [0, 255, 7, 8])
        XCTAssertEqual(u.shape, [2, 2])
    }

    func testReadsNumpyWrittenFixture() throws {
        // schedule_10.npy was written by numpy: float64 (10, 10), row 0 = respaced betas, whose first
        // entry is 1 - (1 - beta_0) with beta_0 = 1e-4 by definition.
        let a = try NumPy.read(Fixtures.suite("c2v").appendingPathComponent("schedule_10.npy"))
        XCTAssertEqual(a.dtype, .float64)
        XCTAssertEqual(a.shape, [10, 10])
        XCTAssertEqual(a.doubles()[0], 1e-4, accuracy: 1e-15)
    }

    func testRejectsGarbageAndTruncation() throws {
        XCTAssertThrowsError(try NumPy.parse(Data("not numpy at all".utf8), path: "x.npy")) { error in
            XCTAssertTrue("\(error)".contains("x.npy"))
        }
        let url = tempURL("t.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try NumPy.write(Tensor(zeros: [16]), to: url)
        let data = try Data(contentsOf: url)
        XCTAssertThrowsError(try NumPy.parse(data.prefix(data.count - 4), path: "t.npy")) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }
}
