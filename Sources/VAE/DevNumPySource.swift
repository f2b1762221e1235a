// TEMPORARY (until the Checkpoints readers land): a folder of <tensor name>.npy files as a source.

import Checkpoints
import Foundation
import TensorCore

struct NumPyFolderSource: VAETensorSource {
    let path: String
    let names: [String]
    init(_ url: URL) {
        path = url.path
        names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
            .filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }
    }
    func shape(of name: String) -> [Int]? {
        guard names.contains(name) else { return nil }
        return (try? NumPy.read(URL(fileURLWithPath: path).appendingPathComponent(name + ".npy")))?.shape
    }
    func tensor(_ name: String) throws(VAEError) -> Tensor {
        do { return try NumPy.read(URL(fileURLWithPath: path).appendingPathComponent(name + ".npy")).tensor() } catch {
            throw .weightsFile(path: path, reason: "\(error)")
        }
    }
}
