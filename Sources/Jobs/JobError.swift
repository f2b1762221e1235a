// JobError: the typed errors of the Jobs module. Every problem in a job or config file is a Diagnostic
// at file:line:column with a hint; a file's problems are collected and thrown together.

/// One problem in a YAML file, at file:line:column, with a hint on how to fix it.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The file as given by the caller (printed as is).
    public var file: String
    /// 1-based line, 0 when the problem concerns the whole file.
    public var line: Int
    /// 1-based column, 0 when the problem concerns the whole file.
    public var column: Int
    /// What is wrong.
    public var message: String
    /// How to fix it (may be empty).
    public var hint: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, message: String, hint: String = "") {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// Creates a diagnostic at a mark (nil: the whole file).
    init(file: String, at mark: YAMLMark?, _ message: String, hint: String = "") {
        self.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message, hint: hint)
    }

    /// `file:line:column: error: message` and, when there is one, an indented `hint:` line.
    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return "\(place): error: \(message)" + (hint.isEmpty ? "" : "\n  hint: \(hint)")
    }
}

/// Errors of the Jobs module.
public enum JobError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A job or config file has one or more problems (syntax, keys, types, ranges, references).
    case invalid([Diagnostic])
    /// A file could not be read.
    case unreadable(path: String, reason: String)

    /// The diagnostics of `.invalid`, or one whole-file diagnostic for `.unreadable`.
    public var diagnostics: [Diagnostic] {
        switch self {
        case .invalid(let list): return list
        case .unreadable(let path, let reason):
            return [
                Diagnostic(
                    file: path, line: 0, column: 0, message: "cannot read file: \(reason)",
                    hint: "check the path and its permissions")
            ]
        }
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects the diagnostics of one file while it is decoded.
final class DiagnosticSink {
    let file: String
    private(set) var items: [Diagnostic] = []

    init(file: String) { self.file = file }

    /// Records an error at `mark` (nil: the whole file).
    func error(_ mark: YAMLMark?, _ message: String, hint: String = "") {
        let diagnostic = Diagnostic(file: file, at: mark, message, hint: hint)
        if !items.contains(diagnostic) { items.append(diagnostic) }
    }

    func append(_ diagnostics: [Diagnostic]) { items += diagnostics }

    var isEmpty: Bool { items.isEmpty }

    /// Throws `.invalid` with everything collected, sorted by position.
    func throwIfAny() throws {
        guard !items.isEmpty else { return }
        throw JobError.invalid(sorted)
    }

    var sorted: [Diagnostic] {
        items.enumerated().sorted {
            let a = $0.element, b = $1.element
            if a.file != b.file { return a.file < b.file }
            if (a.line, a.column) != (b.line, b.column) { return (a.line, a.column) < (b.line, b.column) }
            return $0.offset < $1.offset
        }.map(\.element)
    }
}
