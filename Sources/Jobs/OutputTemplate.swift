// OutputTemplate: the job's `output:` name template. Placeholders {seed}, {index} (0-based position in
// the seed list), {job} (job file name without extension), {model} and {class} (class name, or index
// when the model has no names) are substituted; the result must be a relative path ending in .mp4 that
// stays inside the output directory after lexical normalization (no symlinks are followed).

/// Expands and checks output name templates.
public enum OutputTemplate {
    /// The placeholders a template may use.
    public static let placeholders = ["seed", "index", "job", "model", "class"]
    /// The template used when a job has no `output:`.
    public static let defaultTemplate = "{job}-{seed}.mp4"

    /// A problem with a template.
    struct Problem: Error {
        var message: String
        var hint: String
    }

    /// The placeholder names used by `template`, or a problem (unknown name, unbalanced brace).
    static func placeholders(in template: String) -> Result<[String], Problem> {
        var names: [String] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                return .failure(
                    Problem(
                        message: "unbalanced brace in output template '\(template)'",
                        hint: "placeholders look like {seed}"))
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard placeholders.contains(name) else {
                return .failure(
                    Problem(
                        message: "unknown placeholder '{\(name)}' in output template"
                            + Suggestions.didYouMean(name, in: placeholders),
                        hint: "placeholders: " + placeholders.map { "{\($0)}" }.joined(separator: ", ")))
            }
            names.append(name)
            rest = rest[rest.index(after: close)...]
        }
        return .success(names)
    }

    /// Substitutes `values` and returns the normalized relative path, or a problem.
    static func expand(_ template: String, values: [String: String]) -> Result<String, Problem> {
        if case .failure(let p) = placeholders(in: template) { return .failure(p) }
        var text = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            text += rest[..<open]
            text += values[String(rest[rest.index(after: open)..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        text += rest
        guard !text.hasPrefix("/") else {
            return .failure(
                Problem(
                    message: "output '\(template)' is an absolute path",
                    hint: "outputs are relative to the output directory, e.g. \"biking-{seed}.mp4\""))
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return .failure(
                Problem(message: "output '\(template)' contains control characters", hint: "use a plain file name"))
        }
        guard let path = normalizedRelativePath(text) else {
            return .failure(
                Problem(
                    message: "output '\(template)' escapes the output directory", hint: "remove the '..' components"))
        }
        guard path.hasSuffix(".mp4"), let last = path.split(separator: "/").last, last.count > 4 else {
            return .failure(
                Problem(
                    message: "output '\(template)' must name an .mp4 file",
                    hint: "end the name in .mp4, e.g. \"biking-{seed}.mp4\""))
        }
        return .success(path)
    }

    /// Checks a template with stand-in values (before the model is known).
    static func check(_ template: String) -> Problem? {
        let standIns = ["seed": "0", "index": "0", "job": "job", "model": "model", "class": "class"]
        if case .failure(let problem) = expand(template, values: standIns) { return problem }
        return nil
    }

    /// `path` with "." and empty components removed and ".." applied ("" for no components), or nil if
    /// it is absolute or climbs above its start. Purely lexical.
    public static func normalizedRelativePath(_ path: String) -> String? {
        guard !path.hasPrefix("/") else { return nil }
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                guard parts.popLast() != nil else { return nil }
            default: parts.append(component)
            }
        }
        return parts.joined(separator: "/")
    }
}
