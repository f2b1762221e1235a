// torch.save zip archives (.pt, .bin, .pth): <top>/data.pkl run through the restricted unpickler,
// storages resolved to <top>/data/<key> entries, which are stored uncompressed and used in place.

import Foundation

enum TorchZip {
    /// Reads the pickled structure of a mapped torch zip file.
    static func read(_ file: MappedFile) throws(CheckpointError) -> CheckpointValue {
        let path = file.path
        let zip = try ZipArchive(file)
        let pickles = zip.entries.keys.filter {
            $0 == "data.pkl" || ($0.hasSuffix("/data.pkl") && !$0.dropLast("/data.pkl".count).contains("/"))
        }
        guard pickles.count == 1, let pickleName = pickles.first else {
            throw .badZip(path: path, reason: pickles.isEmpty ? "no <top>/data.pkl entry" : "several data.pkl entries")
        }
        let top = String(pickleName.dropLast("data.pkl".count))  // "<top>/" (or "" for a flat archive)
        if let order = zip.entries[top + "byteorder"] {
            let bytes = try zip.storedData(order)
            guard String(decoding: bytes, as: UTF8.self) == "little" else {
                throw .badZip(path: path, reason: "byteorder is not 'little'; big-endian checkpoints are not supported")
            }
        }
        guard let pickleEntry = zip.entries[pickleName] else { throw .badZip(path: path, reason: "data.pkl vanished") }
        let pickle = try zip.storedData(pickleEntry)
        let unpickler = TorchUnpickler(
            data: pickle, path: path,
            loadStorage: { (dtype, key, count) throws(CheckpointError) -> TorchStorage in
                guard let entry = zip.entries[top + "data/" + key] else {
                    throw .badZip(path: path, reason: "storage '\(key)' has no entry \(top)data/\(key)")
                }
                let bytes = try zip.storedData(entry)
                let (need, overflow) = count.multipliedReportingOverflow(by: dtype.size)
                guard count >= 0, !overflow, need <= bytes.count else {
                    throw .badZip(
                        path: path,
                        reason:
                            "storage '\(key)' claims \(count) \(dtype) elements but its entry holds \(bytes.count) bytes"
                    )
                }
                return TorchStorage(dtype: dtype, byteOffset: entry.dataOffset, count: count)
            },
            makeTensor: { (storage, offset, shape, strides, label) throws(CheckpointError) -> StoredTensor in
                try StoredTensor(
                    name: label, file: file, dtype: storage.dtype, shape: shape, strides: strides,
                    storageOffset: offset,
                    storageByteOffset: storage.byteOffset, storageCount: storage.count)
            })
        return try unpickler.run()
    }
}
