// Model files: the restricted unpickler (data.pkl), PyTorch zip archives (through Checkpoint.open, so
// format detection and shard indexes are covered too), safetensors headers, and .npy arrays. Whatever
// a reader accepts is then used the way a loader would: state-dict selection, strict lookup, and the
// tensor data itself (float32 / raw bytes / bf16), so a tensor that passed validation but reaches
// outside its file is an ASan report.

import Foundation

@testable import Checkpoints

enum FuzzCheckpoints {
    /// Tensors with more elements than this are only described, not converted: the model loaders
    /// compare every shape with the config before reading data (WeightStore.tensor(_:shape:)).
    static let maxConvertedElements = 1 << 16

    /// A zero-filled file the pickle driver's storages live in (what a zip's data/<key> entries are).
    private static let storageFile: MappedFile = {
        let bytes = [UInt8](repeating: 0, count: 8 << 20)
        let url = FuzzFiles.write(bytes, "storages.bin")
        do { return try MappedFile(url) } catch {
            fputs("skipdit-fuzz: \(error)\n", stderr)
            exit(2)
        }
    }()

    /// data.pkl alone: the unpickler with storages resolved the way TorchZip resolves them (an entry
    /// per key, here all in one zero-filled file, at an offset that depends on the key so that both
    /// aligned and unaligned storages occur).
    static func pickle(_ bytes: UnsafeRawBufferPointer) {
        let file = storageFile
        let path = "fuzz/data.pkl"
        let unpickler = TorchUnpickler(
            data: bytes, path: path,
            loadStorage: { (dtype, key, count) throws(CheckpointError) -> TorchStorage in
                let offset = Int(key.utf8.last ?? 0) % 8
                let available = file.count - offset
                let (need, overflow) = count.multipliedReportingOverflow(by: dtype.size)
                guard count >= 0, !overflow, need <= available else {
                    throw .badZip(
                        path: path, reason: "storage '\(key)' claims \(count) \(dtype) elements but holds \(available)")
                }
                return TorchStorage(dtype: dtype, byteOffset: offset, count: count)
            },
            makeTensor: { (storage, offset, shape, strides, label) throws(CheckpointError) -> StoredTensor in
                try StoredTensor(
                    name: label, file: file, dtype: storage.dtype, shape: shape, strides: strides,
                    storageOffset: offset, storageByteOffset: storage.byteOffset, storageCount: storage.count)
            })
        do {
            let root = try unpickler.run()
            use(Checkpoint(path: path, format: .torchZip, root: root, metadata: [:]))
        } catch {
            _ = error.description
        }
    }

    /// A whole file as `Checkpoint.open` sees it (zip, safetensors or shard index by content).
    static func zip(_ bytes: UnsafeRawBufferPointer) {
        open(FuzzFiles.write(bytes, "model.pt"))
    }

    /// A safetensors file, straight to its reader (no format detection in between).
    static func safetensors(_ bytes: UnsafeRawBufferPointer) {
        let url = FuzzFiles.write(bytes, "model.safetensors")
        do {
            let file = try MappedFile(url)
            let (dict, metadata) = try SafeTensors.read(file)
            _ = metadata.count
            use(Checkpoint(path: file.path, format: .safetensors, root: .dict(dict.asDict), metadata: metadata))
        } catch {
            _ = error.description
        }
        open(url)
    }

    private static func open(_ url: URL) {
        do { use(try Checkpoint.open(url)) } catch { _ = error.description }
    }

    /// What the model loaders do with a checkpoint.
    private static func use(_ checkpoint: Checkpoint) {
        visit(checkpoint.root, depth: 0)
        for preferred in [["ema", "model"], []] {
            let dict: StateDict
            do {
                dict = try preferred.isEmpty ? checkpoint.stateDict() : checkpoint.stateDict(preferring: preferred)
            } catch {
                _ = error.description
                continue
            }
            do {
                let store = try WeightStore(dict)
                for name in dict.names.prefix(4) {
                    if let t = dict[name] { _ = try? store.tensor(name, shape: t.shape) }
                }
                _ = try? store.stored("no.such.tensor")
                _ = store.unusedNames
            } catch {
                _ = error.description
            }
        }
    }

    private static func visit(_ value: CheckpointValue, depth: Int) {
        switch value {
        case .dict(let d):
            for k in d.keys { if let v = d[k] { visit(v, depth: depth + 1) } }
        case .list(let items):
            for v in items { visit(v, depth: depth + 1) }
        case .tensor(let t):
            touch(t)
        default:
            break
        }
    }

    /// Checks what StoredTensor's validation promises, independently of it (a mapping is not ASan
    /// memory, so a read just past a tensor's storage would go unnoticed), then reads the elements of
    /// small tensors in each of the ways loaders do.
    static func touch(_ t: StoredTensor) {
        _ = t.description
        _ = t.isContiguous
        let size = t.dtype.size
        if t.storageCount > 0 || t.count > 0 {
            guard let base = t.owner.bytes.baseAddress else { violation(t, "storage in an empty file") }
            let start = t.storage - UnsafeRawPointer(base)
            guard start >= 0, t.storageCount <= (t.owner.count - start) / size else {
                violation(t, "storage of \(t.storageCount) elements at byte \(start) leaves the file")
            }
        }
        if t.count > 0 {
            var last = t.storageOffset
            for (d, stride) in Swift.zip(t.shape, t.strides) { last += (d - 1) * stride }
            guard t.storageOffset >= 0, last < t.storageCount else {
                violation(t, "element \(last) is reachable in a storage of \(t.storageCount)")
            }
        }
        guard t.count <= maxConvertedElements else { return }
        let f = t.float32()
        var sum: Float = 0
        f.withUnsafeBufferPointer { if let first = $0.first, let last = $0.last { sum = first + last } }
        let raw = t.contiguousBytes()
        withExtendedLifetime(raw.owner) {
            var copy = [UInt8](repeating: 0, count: raw.count)
            copy.withUnsafeMutableBytes {
                if raw.count > 0 { $0.baseAddress?.copyMemory(from: raw.pointer, byteCount: raw.count) }
            }
        }
        if t.count <= 1024 { _ = t.bfloat16Bits() }
        _ = sum
    }

    private static func violation(_ t: StoredTensor, _ what: String) -> Never {
        fputs("validated tensor \(t) breaks its bounds: \(what)\n", stderr)
        abort()
    }

    /// A .npy file: the in-memory parser (also over a Data slice that does not start at index 0, as
    /// callers holding part of a larger buffer pass it), then every element accessor.
    static func npy(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        parse(data)
        var shifted = Data([0xAA])
        shifted.append(data)
        parse(shifted[(shifted.startIndex + 1)...])
    }

    private static func parse(_ data: Data) {
        do {
            let array = try NumPy.parse(data, path: "fuzz.npy")
            guard array.count <= maxConvertedElements else { return }
            _ = array.floats()
            _ = array.doubles()
            _ = array.ints()
            _ = array.uint8s()
            _ = array.tensor()
        } catch {
            _ = error.description
        }
    }
}
