// Sharded checkpoints: an index JSON ({"metadata": …, "weight_map": {name: shard file}}) next to its
// shards, which may be safetensors or torch.save .bin files. The shards' tensors are merged into one
// state dict; every name in the weight map must be found in the shard it names.

import Foundation

enum ShardIndex {
    static func open(file: MappedFile, url: URL) throws(CheckpointError) -> Checkpoint {
        let path = file.path
        func bad(_ r: String) -> CheckpointError { .badIndex(path: path, reason: r) }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(file.bytes)) } catch { throw bad("not valid JSON") }
        guard let top = json as? [String: Any], let mapAny = top["weight_map"] as? [String: Any] else {
            throw bad("no \"weight_map\" object")
        }
        var weightMap: [String: String] = [:]
        for (name, shardAny) in mapAny {
            guard let shard = shardAny as? String else { throw bad("weight_map['\(name)'] is not a file name") }
            guard !shard.isEmpty, !shard.hasPrefix("/"), !shard.split(separator: "/").contains("..") else {
                throw bad("shard '\(shard)' is not a file name inside the index's folder")
            }
            weightMap[name] = shard
        }
        let folder = url.deletingLastPathComponent()
        var names: [String] = []
        var tensors: [String: StoredTensor] = [:]
        for shard in Set(weightMap.values).sorted() {
            let shardURL = folder.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw bad("shard '\(shard)' does not exist")
            }
            let checkpoint = try Checkpoint.open(shardURL, shardOf: (path, shard))
            let dict = try checkpoint.stateDict()
            for name in dict.names {
                guard tensors[name] == nil else { throw .duplicateTensor(path: path, tensor: name) }
                tensors[name] = dict[name]
                names.append(name)
            }
            for (name, s) in weightMap where s == shard && dict[name] == nil {
                throw bad("tensor '\(name)' is mapped to '\(shard)', which does not hold it")
            }
        }
        let dict = StateDict(path: path, names: names, tensors: tensors)
        return Checkpoint(path: path, format: .sharded, root: .dict(dict.asDict), metadata: [:])
    }
}
