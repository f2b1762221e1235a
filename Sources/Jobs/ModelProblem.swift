// ModelProblem: a model of the registry whose files failed their check (missing, unreadable, of the
// wrong kind, or not parsing as the format the entry implies). Jobs reads no model files: the check
// lives where the readers are (Render's ModelFileCheck); its findings ride on the DaemonConfig
// (`modelProblems`), so a job naming such a model is refused with this problem, not judged against
// the entry's unconfirmed facts.

/// Why a registered model cannot render.
public struct ModelProblem: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The file or folder does not exist.
        case missing
        /// It exists but this process may not read it (permissions).
        case unreadable
        /// A file where a folder is needed, or the other way round.
        case wrongType
        /// It does not parse as the format it must have (truncated, garbage, another kind of file).
        case corrupt
        /// It parses but contradicts the registry entry (e.g. its class count).
        case mismatch
    }

    /// The model's registry name.
    public var model: String
    /// The entry key whose path leads to the file: checkpoint, vae or base.
    public var key: String
    /// The file or folder that is wrong (absolute; may lie inside the entry's folder).
    public var path: String
    /// What kind of problem.
    public var kind: Kind
    /// What is wrong, as a phrase following the path ("does not exist", "cannot be read: …").
    public var reason: String
    /// How to fix it.
    public var hint: String

    /// Creates a problem.
    public init(model: String, key: String, path: String, kind: Kind, reason: String, hint: String) {
        self.model = model
        self.key = key
        self.path = path
        self.kind = kind
        self.reason = reason
        self.hint = hint
    }

    /// "model 'NAME' is unusable: KEY PATH REASON".
    public var message: String { "model '\(model)' is unusable: \(key) \(path) \(reason)" }

    public var description: String { message + (hint.isEmpty ? "" : "; hint: \(hint)") }
}
