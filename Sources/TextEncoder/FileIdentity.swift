// A cheap identity for model files (path, size and modification time of every file in a
// folder), used to key cached prompt embeddings: replacing or editing a weight file changes it.

import Foundation

enum FileIdentity {
    /// "path{name:size:mtime,...}" for the regular files directly inside `folder`, sorted.
    static func describe(folder: URL) -> String {
        let fm = FileManager.default
        let path = folder.standardizedFileURL.resolvingSymlinksInPath().path
        let names = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
        let entries = names.compactMap { name -> String? in
            guard let a = try? fm.attributesOfItem(atPath: path + "/" + name),
                (a[.type] as? FileAttributeType) == .typeRegular
            else { return nil }
            let size = (a[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(name):\(size):\(Int64(mtime * 1000))"
        }
        return "\(path){\(entries.joined(separator: ","))}"
    }

    /// The same for one file.
    static func describe(file: URL) -> String {
        let path = file.standardizedFileURL.resolvingSymlinksInPath().path
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (a?[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(path):\(size):\(Int64(mtime * 1000))"
    }
}
