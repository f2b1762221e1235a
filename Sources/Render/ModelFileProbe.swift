// ModelFileProbe: the primitive checks behind ModelFileCheck for one registry entry: does a path
// exist, is it a file or a folder as it must be, may this process read it, and the readers' typed
// errors (Checkpoints, VAE, TextEncoder, Latte) turned into a `ModelProblem` that names the very file
// at fault, says what is wrong with it and how to fix it.

import Checkpoints
import Foundation
import Jobs
import TextEncoder
import VAE

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Checks on the files of one model entry; every failure is a `ModelProblem` for that model.
struct ModelFileProbe {
    /// The registry entry being checked.
    let entry: ModelEntry
    /// The config file (hints point at it).
    let configFile: String

    /// A problem of this model with the file at `path`, found through the entry's `key`.
    func problem(_ key: String, _ path: String, _ kind: ModelProblem.Kind, _ reason: String, hint: String)
        -> ModelProblem
    {
        ModelProblem(model: entry.name, key: key, path: path, kind: kind, reason: reason, hint: hint)
    }

    // MARK: existence, kind, permissions

    /// `url` must exist, be a regular file (following links) and be readable.
    /// - what: what the file is, for hints ("the Skip-DiT checkpoint", "the VAE's config.json").
    /// - direct: true when `key` names this very path (its hint says to fix the entry).
    func requireFile(_ url: URL, key: String, what: String, direct: Bool = false) throws(ModelProblem) {
        try requireExists(url, key: key, what: what, direct: direct, folder: false)
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw unreadable(url, key: key, errno: errno) }
        close(fd)
    }

    /// `url` must exist, be a folder and be listable (read and search permission).
    func requireFolder(_ url: URL, key: String, what: String, direct: Bool = false) throws(ModelProblem) {
        try requireExists(url, key: key, what: what, direct: direct, folder: true)
        guard access(url.path, R_OK | X_OK) == 0 else { throw unreadable(url, key: key, errno: errno) }
    }

    /// True when `url` exists (following links).
    func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    private func requireExists(_ url: URL, key: String, what: String, direct: Bool, folder: Bool)
        throws(ModelProblem)
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            let hint =
                direct
                ? "fix `\(key):` of model '\(entry.name)' in \(configFile) (relative paths are resolved against its folder), or put \(what) there"
                : "\(what) belongs there; the folder is incomplete (copy or download it again)"
            throw problem(key, url.path, .missing, "does not exist", hint: hint)
        }
        if isDirectory.boolValue != folder {
            let found = isDirectory.boolValue ? "a folder" : "a file"
            throw problem(
                key, url.path, .wrongType, "is \(found), not \(folder ? "a folder" : "a file")",
                hint: "`\(key):` must name \(what)")
        }
    }

    private func unreadable(_ url: URL, key: String, errno code: Int32) -> ModelProblem {
        problem(
            key, url.path, .unreadable, "cannot be read: \(String(cString: strerror(code)))",
            hint: "let the user the daemon runs as read it (e.g. `chgrp skipdit` and `chmod g+r`, g+rx for folders)")
    }

    // MARK: reader errors

    /// A checkpoint reader's error. `folder` is the folder the weights were looked for in, if any.
    func problem(_ error: CheckpointError, key: String, folder: URL? = nil) -> ModelProblem {
        let damaged = "the file is truncated, damaged or of another kind; copy or download it again"
        switch error {
        case .io(let path, let reason):
            return problem(
                key, path, .unreadable, "cannot be read: \(reason)", hint: "check the file and its permissions")
        case .unknownFormat(let path, let hint):
            if let folder, path == folder.path {
                return problem(key, path, .missing, "holds no weights file", hint: hint)
            }
            // The reader's hint is worth passing on when it recognised something (a bare pickle).
            return problem(
                key, path, .corrupt,
                "is not a checkpoint (neither a torch.save zip, a safetensors file nor a shard index)",
                hint: hint.hasPrefix("expected") ? damaged : hint)
        case .badZip(let path, let reason):
            return problem(key, path, .corrupt, "is not a valid PyTorch zip checkpoint (\(reason))", hint: damaged)
        case .badPickle(let path, let offset, let reason):
            return problem(
                key, path, .corrupt, "has a malformed pickle (data.pkl offset \(offset): \(reason))",
                hint: "only plain state dicts of tensors are read; " + damaged)
        case .forbiddenGlobal(let path, let offset, let global):
            return problem(
                key, path, .corrupt,
                "pickles '\(global)' (data.pkl offset \(offset)), which is not part of a state dict; nothing was executed",
                hint: "save only the state dict, or convert it to safetensors")
        case .badHeader(let path, let reason):
            return problem(key, path, .corrupt, "has a malformed safetensors header (\(reason))", hint: damaged)
        case .badTensor(let path, let tensor, let reason):
            return problem(key, path, .corrupt, "has a malformed tensor '\(tensor)' (\(reason))", hint: damaged)
        case .badStructure(let path, let reason, let hint):
            return problem(key, path, .corrupt, "is not laid out as expected: \(reason)", hint: hint)
        case .badIndex(let path, let reason):
            return problem(
                key, path, .corrupt, "is a bad shard index (\(reason))",
                hint: "the index and every shard it names belong in one folder; copy or download it again")
        case .missingTensor(let path, _, _), .shapeMismatch(let path, _, _, _), .unusedTensors(let path, _),
            .duplicateTensor(let path, _):
            return problem(key, path, .corrupt, "does not hold the expected tensors: \(error)", hint: damaged)
        }
    }

    /// A VAE config or weights error. `folder`: the folder the weights were looked for in (nil for a
    /// single weights file).
    func problem(_ error: VAEError, key: String, folder: URL?) -> ModelProblem {
        switch error {
        case .config(let path, let reason, let hint):
            return problem(key, path, .corrupt, "is not a usable VAE config: \(reason)", hint: hint)
        case .weights(let inner, _):
            return problem(inner, key: key, folder: folder)
        }
    }

    /// A tokenizer or T5 config/weights error.
    func problem(_ error: TextEncoderError, key: String, fallback: URL) -> ModelProblem {
        switch error {
        case .tokenizerFile(let path, let reason):
            return problem(
                key, path, .corrupt, "is not a usable tokenizer file: \(reason)",
                hint: "the tokenizer folder holds the T5 sentencepiece model (spiece.model); copy it again")
        case .config(let path, let reason):
            return problem(
                key, path, .corrupt, "is not a usable T5 config: \(reason)",
                hint: "text_encoder/config.json must describe a T5 v1.1 encoder")
        case .weights(let path, _, let reason):
            return problem(
                key, path, .corrupt, "holds unusable T5 weights: \(reason)",
                hint: "expected a transformers T5EncoderModel folder; copy or download it again")
        case .encoding, .promptRejected, .cache:
            return problem(key, fallback.path, .corrupt, "cannot be used: \(error)", hint: "see the reason")
        }
    }

    /// Any other reader error (Latte config from shapes or config.json, a scheduler config).
    func problem(_ error: Error, key: String, path: URL, what: String, hint: String) -> ModelProblem {
        problem(key, path.path, .corrupt, "is not \(what): \(error)", hint: hint)
    }
}
