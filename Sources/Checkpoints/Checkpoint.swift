// Opening a checkpoint of any supported kind: a torch.save zip (.pt/.bin/.pth), a safetensors file,
// a shard index (*.safetensors.index.json, pytorch_model.bin.index.json) or a model folder holding
// one of those. The format is detected from the content, not the extension. Also the official rule
// for picking the state dict out of a wrapper dict ({"ema": …, "model": …}).

import Foundation

/// A checkpoint opened read-only; its tensors borrow the memory-mapped file(s).
public struct Checkpoint: Sendable {
    public enum Format: String, Sendable { case torchZip, safetensors, sharded }

    /// The file, index or folder it was opened from.
    public let path: String
    public let format: Format
    /// The whole structure (for safetensors and shards: one dict of tensors).
    public let root: CheckpointValue
    /// safetensors `__metadata__` (empty for other formats).
    public let metadata: [String: String]

    /// Index files looked for in a folder, in order.
    static let indexNames = [
        "model.safetensors.index.json", "diffusion_pytorch_model.safetensors.index.json",
        "pytorch_model.bin.index.json", "diffusion_pytorch_model.bin.index.json",
    ]
    /// Single weight files looked for in a folder, in order.
    static let weightNames = [
        "model.safetensors", "diffusion_pytorch_model.safetensors", "pytorch_model.bin", "diffusion_pytorch_model.bin",
    ]

    /// Opens a file or folder, detecting its format from its content.
    public static func open(_ url: URL) throws(CheckpointError) -> Checkpoint {
        try open(url, shardOf: nil)
    }

    /// Opens a file or folder; `shardOf` is set when a shard index names it (the index's path and
    /// the name it gives the shard). A shard may not be an index: one that named itself, or two that
    /// named each other, would otherwise be opened again and again until the stack overflows.
    static func open(_ url: URL, shardOf index: (path: String, shard: String)?) throws(CheckpointError)
        -> Checkpoint
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .io(path: url.path, reason: "no such file or folder")
        }
        if isDirectory.boolValue { return try open(url: try weightsFile(inFolder: url), shardOf: index) }
        return try open(url: url, shardOf: index)
    }

    /// Picks the weights file of a model folder: a shard index first, then a single weights file.
    static func weightsFile(inFolder folder: URL) throws(CheckpointError) -> URL {
        let fm = FileManager.default
        for name in indexNames + weightNames where fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
            return folder.appendingPathComponent(name)
        }
        let files = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        for group in [[".index.json"], [".safetensors"], [".bin", ".pt", ".pth", ".ckpt"]] {
            let matches = files.filter { f in group.contains { f.hasSuffix($0) } }
            if matches.count == 1, let only = matches.first { return folder.appendingPathComponent(only) }
            if matches.count > 1 {
                throw .unknownFormat(
                    path: folder.path,
                    hint: "several candidate weight files (\(matches.joined(separator: ", "))); name one")
            }
        }
        throw .unknownFormat(path: folder.path, hint: "the folder holds no .safetensors, .bin, .pt or shard index file")
    }

    private static func open(url: URL, shardOf index: (path: String, shard: String)?) throws(CheckpointError)
        -> Checkpoint
    {
        let file = try MappedFile(url)
        let b = file.bytes
        let magic: [UInt8] = b.count >= 4 ? Array(b[0..<4]) : []
        if magic == [0x50, 0x4B, 0x03, 0x04] || magic == [0x50, 0x4B, 0x05, 0x06] {
            return Checkpoint(path: file.path, format: .torchZip, root: try TorchZip.read(file), metadata: [:])
        }
        if magic.first == 0x80 {
            throw .unknownFormat(
                path: file.path,
                hint:
                    "a bare pickle (legacy torch.save before 1.6, or a plain pickle); re-save it with a current torch or convert it to safetensors"
            )
        }
        // safetensors before JSON: its first byte is the header length's low byte, which may be '{'.
        if b.count >= 9, b[8] == UInt8(ascii: "{"), let n = file.uint(at: 0, width: 8), n <= UInt64(b.count - 8) {
            let (dict, metadata) = try SafeTensors.read(file)
            return Checkpoint(path: file.path, format: .safetensors, root: .dict(dict.asDict), metadata: metadata)
        }
        if let first = b.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }),
            first == UInt8(ascii: "{")
        {
            if let index {
                throw .badIndex(path: index.path, reason: "shard '\(index.shard)' is itself an index")
            }
            return try ShardIndex.open(file: file, url: url)
        }
        if b.count >= 9, b[8] == UInt8(ascii: "{") {
            let (dict, metadata) = try SafeTensors.read(file)  // throws: header length beyond the file
            return Checkpoint(path: file.path, format: .safetensors, root: .dict(dict.asDict), metadata: metadata)
        }
        throw .unknownFormat(
            path: file.path, hint: "expected a torch.save zip, a safetensors file or a shard index JSON")
    }

    /// The state dict under the first of `keys` present in the top-level dict. The official
    /// class-to-video and Latte-skip loaders use ["ema", "model"]; a bare state dict is an error.
    public func stateDict(preferring keys: [String]) throws(CheckpointError) -> StateDict {
        guard case .dict(let top) = root else {
            throw .badStructure(
                path: path, reason: "the checkpoint is not a dict",
                hint: "expected {\"ema\": state_dict} or {\"model\": state_dict}")
        }
        for key in keys {
            guard let value = top[key] else { continue }
            guard case .dict(let inner) = value else {
                throw .badStructure(
                    path: path, reason: "entry '\(key)' is not a dict", hint: "expected a state dict under '\(key)'")
            }
            return try StateDict(path: path, dict: inner, context: "[\(key)] ")
        }
        let shown = top.keys.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        throw .badStructure(
            path: path,
            reason: "none of the keys \(keys) is present (top-level keys: \(shown)\(top.keys.count > 5 ? ", …" : ""))",
            hint:
                "the official loader needs a dict with 'ema' or 'model'; wrap a bare state dict as {'ema': state_dict}")
    }

    /// The top-level dict as a state dict: diffusers/transformers .bin files and safetensors.
    public func stateDict() throws(CheckpointError) -> StateDict {
        guard case .dict(let top) = root else {
            throw .badStructure(
                path: path, reason: "the checkpoint is not a dict", hint: "expected a state dict (name -> tensor)")
        }
        return try StateDict(path: path, dict: top, context: "")
    }
}

extension StateDict {
    /// The tensors as a `CheckpointDict`.
    var asDict: CheckpointDict {
        CheckpointDict(keys: names, values: tensors.mapValues { .tensor($0) })
    }
}
