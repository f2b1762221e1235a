// Strict lookup: missing names with suggestions, shape mismatches naming expected and actual, unused
// tensors listed by name, scoped views sharing usage, renaming, ignoring prefixes.

import Checkpoints
import Foundation
import TensorCore
import XCTest

final class WeightStoreTests: XCTestCase {
    private var url: URL!

    override func setUpWithError() throws {
        url = TorchFileWriter.temporaryURL("w.safetensors")
        let t = { (n: Int) in Tensor(shape: [n], values: (0..<n).map(Float.init)) }
        try SafeTensors.write(
            [
                SafeTensors.Entry(name: "blocks.0.attn.qkv.weight", tensor: t(6).reshaped([3, 2])),
                SafeTensors.Entry(name: "blocks.0.attn.qkv.bias", tensor: t(3)),
                SafeTensors.Entry(name: "blocks.1.attn.qkv.weight", tensor: t(6).reshaped([3, 2])),
                SafeTensors.Entry(name: "mid.attn.query.weight", tensor: t(4).reshaped([2, 2, 1, 1])),
                SafeTensors.Entry(name: "encoder.conv.weight", tensor: t(2)),
            ], to: url)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: url) }

    private func store(rename: ((String) -> String?)? = nil) throws -> WeightStore {
        try WeightStore(Checkpoint.open(url).stateDict(), rename: rename)
    }

    func testMissingTensorSuggestsCloseNames() throws {
        let s = try store()
        XCTAssertThrowsError(try s.tensor("blocks.0.attn.qkv.weigth", shape: [3, 2])) { error in
            guard case .missingTensor(let path, let name, let suggestions)? = error as? CheckpointError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, self.url.path)
            XCTAssertEqual(name, "blocks.0.attn.qkv.weigth")
            XCTAssertEqual(suggestions.first, "blocks.0.attn.qkv.weight")
            XCTAssertTrue("\(error)".contains("close names"))
        }
    }

    func testShapeMismatchNamesExpectedAndActual() throws {
        let s = try store()
        XCTAssertThrowsError(try s.tensor("blocks.0.attn.qkv.weight", shape: [2, 3])) { error in
            XCTAssertEqual(
                error as? CheckpointError,
                .shapeMismatch(
                    path: self.url.path, tensor: "blocks.0.attn.qkv.weight", expected: [2, 3], actual: [3, 2]))
            XCTAssertTrue("\(error)".contains("[3, 2]") && "\(error)".contains("[2, 3]"))
        }
        // Trailing size-1 dims are accepted only when asked for.
        XCTAssertThrowsError(try s.tensor("mid.attn.query.weight", shape: [2, 2]))
        let q = try s.tensor("mid.attn.query.weight", shape: [2, 2], acceptingTrailingOnes: true)
        XCTAssertEqual(q.shape, [2, 2])
        XCTAssertEqual(q.scalars, [0, 1, 2, 3])
    }

    func testScopesRenamingAndUnusedTensors() throws {
        let s = try store { $0.replacingOccurrences(of: ".query.", with: ".to_q.") }
        let block0 = s.scoped("blocks.0.").scoped("attn.")
        XCTAssertEqual(block0.names, ["qkv.weight", "qkv.bias"])
        XCTAssertTrue(block0.contains("qkv.bias"))
        XCTAssertEqual(try block0.tensor("qkv.bias", shape: [3]).scalars, [0, 1, 2])
        _ = try block0.tensor("qkv.weight", shape: [3, 2])
        XCTAssertThrowsError(try block0.tensor("qkv.bais", shape: [3])) { error in
            XCTAssertTrue("\(error)".contains("blocks.0.attn.qkv.bais"), "errors use the full name: \(error)")
        }
        XCTAssertEqual(
            s.unusedNames,
            [
                "blocks.1.attn.qkv.weight", "mid.attn.to_q.weight (stored as mid.attn.query.weight)",
                "encoder.conv.weight",
            ])
        XCTAssertThrowsError(try s.requireAllUsed()) { error in
            guard case .unusedTensors(_, let names)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(names.count, 3)
            XCTAssertTrue("\(error)".contains("blocks.1.attn.qkv.weight"))
        }
        XCTAssertEqual(s.ignore(prefix: "encoder."), 1)
        _ = try s.scoped("blocks.1.").tensor("attn.qkv.weight", shape: [3, 2])
        _ = try s.tensor("mid.attn.to_q.weight", shape: [2, 2, 1, 1])
        try s.requireAllUsed()
    }

    func testRenamingCollisionsAndDroppedTensors() throws {
        XCTAssertThrowsError(try store { _ in "same" }) { error in
            XCTAssertEqual(error as? CheckpointError, .duplicateTensor(path: self.url.path, tensor: "same"))
        }
        let s = try store { $0.hasPrefix("encoder.") ? nil : $0 }
        XCTAssertFalse(s.contains("encoder.conv.weight"))
        XCTAssertFalse(s.unusedNames.contains("encoder.conv.weight"))
    }
}
