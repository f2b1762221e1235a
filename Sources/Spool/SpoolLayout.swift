// SpoolLayout: the on-disk layout of a spool directory, its file names, and the rules for job ids and
// for which incoming files are jobs.
//
//   <root>/incoming/          job files (*.yaml, *.yml) dropped by users. Write them elsewhere and
//                             rename them in; the spool also waits until size and mtime are stable.
//                             Dotfiles, editor/partial files (*~, #*#, *.swp, *.tmp, *.part) are ignored;
//                             other names are left alone (and logged once).
//   <root>/processing/<id>/   a claimed job:
//       job.yaml              the job file, renamed from incoming/ (its mtime, the job's age, is kept)
//       lease.<g>             lease generation g: 1 is the claim, each takeover adds one; the highest
//                             is current. Older generations stay as the job's history.
//       progress.yaml         phase, step k/N, ETA (written by the owner)
//       checkpoint.bin        resumable render state, opaque to the spool (written by the owner)
//       cancel                a cancel request for the owner (`skipdit cancel`)
//       result.yaml           written just before the directory moves to done/ or failed/
//       hold                  a hold request (`skipdit hold`): never resumed while it exists
//       priority.yaml         the operator's priority (`skipdit priority`), read instead of the file's
//       backoff.yaml          transient failures so far and the time before which it is not resumed
//       history.<n>.yaml      one record per queue-control event (n = 1, 2, ...; published with link(2))
//       result.<n>.yaml       the result records of earlier attempts (`skipdit retry`)
//       job.log               the job's log (daemon lines and one line per command that touched it)
//   <root>/processing/.claim.<host>.<pid>.<n>/
//                             a claim in progress (lease.1 first, then job.yaml); renamed to <id>
//   <root>/hold               the spool hold (`skipdit hold --all`): nothing is claimed while it exists
//   <root>/incoming/.wake.<pid>.<n>
//                             a short-lived dotfile a command writes so inotify wakes the daemons
//   <root>/done/<id>/, <root>/failed/<id>/
//                             the finished job directory (job.yaml, result.yaml, lease history,
//                             progress). A name clash gets a suffix: nothing is ever replaced.
//
// All four directories must be on one file system (renames move jobs between them).

import Foundation

enum SpoolLayout {
    static let incoming = "incoming"
    static let processing = "processing"
    static let done = "done"
    static let failed = "failed"

    static let jobFile = "job.yaml"
    static let leasePrefix = "lease."
    static let progressFile = "progress.yaml"
    static let checkpointFile = "checkpoint.bin"
    static let cancelFile = "cancel"
    static let resultFile = "result.yaml"
    static let claimPrefix = ".claim."
    static let holdFile = "hold"
    static let priorityFile = "priority.yaml"
    static let backoffFile = "backoff.yaml"
    static let logFile = "job.log"
    static let historyPrefix = "history."
    static let wakePrefix = ".wake."

    /// history.<n>.yaml
    static func historyFile(_ n: Int) -> String { "\(historyPrefix)\(n).yaml" }

    /// The number of a `history.<n>.yaml` name, or nil.
    static func historyNumber(_ name: String) -> Int? { number(in: name, prefix: historyPrefix) }

    /// result.<n>.yaml: the result record of an earlier attempt.
    static func archivedResult(_ n: Int) -> String { "result.\(n).yaml" }

    /// The number of a `result.<n>.yaml` name, or nil.
    static func archivedResultNumber(_ name: String) -> Int? { number(in: name, prefix: "result.") }

    private static func number(in name: String, prefix: String) -> Int? {
        guard name.hasPrefix(prefix), name.hasSuffix(".yaml") else { return nil }
        guard let n = Int(name.dropFirst(prefix.count).dropLast(5)), n > 0 else { return nil }
        return n
    }

    /// How the spool treats a name in incoming/.
    enum NameKind: Equatable {
        /// A job file (*.yaml, *.yml).
        case job
        /// A dotfile or an editor/partial file: ignored silently.
        case ignored
        /// Anything else: left alone, logged once.
        case unknown
    }

    static func kind(ofIncoming name: String) -> NameKind {
        if name.hasPrefix(".") || name.hasSuffix("~") || (name.hasPrefix("#") && name.hasSuffix("#")) {
            return .ignored
        }
        let lower = name.lowercased()
        for suffix in [".swp", ".swx", ".tmp", ".part", ".partial", ".crdownload"] where lower.hasSuffix(suffix) {
            return .ignored
        }
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") { return .job }
        return .unknown
    }

    /// The file name without its .yaml/.yml extension.
    static func stem(of name: String) -> String {
        let lower = name.lowercased()
        for ext in [".yaml", ".yml"] where lower.hasSuffix(ext) {
            return String(name.dropLast(ext.count))
        }
        return name
    }

    /// A job id for a file name: its stem with characters other than letters, digits, '.', '_', '-'
    /// replaced by '_', and no leading dot.
    static func jobID(forFileName name: String) -> String {
        let stem = stem(of: name)
        var id = String(
            String.UnicodeScalarView(
                stem.unicodeScalars.map { scalar in
                    scalar.isASCII
                        && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                        ? scalar : "_"
                }))
        while id.hasPrefix(".") { id.removeFirst() }
        return id.isEmpty ? "job" : id
    }

    /// True for an id that can name a directory in the spool.
    static func isValidJobID(_ id: String) -> Bool {
        !id.isEmpty && !id.hasPrefix(".") && !id.contains("/") && id != ".." && !id.contains("\0")
    }

    /// The generation of a lease file name (`lease.<g>`), or nil for other names.
    static func leaseGeneration(_ name: String) -> Int? {
        guard name.hasPrefix(leasePrefix) else { return nil }
        guard let g = Int(name.dropFirst(leasePrefix.count)), g > 0 else { return nil }
        return g
    }

    static func leaseFile(_ generation: Int) -> String { leasePrefix + String(generation) }

    /// The host (as `jobID(forFileName:)` writes it) and pid in a claim directory's name
    /// (`.claim.<host>.<pid>.<n>.<random>`), or nil for any other name.
    static func claimer(ofClaimDirectory name: String) -> (host: String, pid: Int32)? {
        guard name.hasPrefix(claimPrefix) else { return nil }
        let parts = name.dropFirst(claimPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4, let pid = Int32(parts[parts.count - 3]), pid > 0 else { return nil }
        return (parts.dropLast(3).joined(separator: "."), pid)
    }
}
