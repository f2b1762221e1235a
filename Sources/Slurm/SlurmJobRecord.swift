// SlurmJobRecord: one job record of `scontrol show job -o` (one line per record: `Key=Value` words).
// An array's tasks that have not started yet share one record whose ArrayTaskId is a range such as
// "3-5,7%2"; each started task has its own record with its own JobId.

import Foundation

/// One `scontrol show job -o` record.
public struct SlurmJobRecord: Sendable, Equatable {
    /// Every `Key=Value` of the line (a value runs to the next ` Key=`).
    public var fields: [String: String]

    public var jobID: Int? { fields["JobId"].flatMap { Int($0) } }
    public var arrayJobID: Int? { fields["ArrayJobId"].flatMap { Int($0) } }
    public var name: String? { fields["JobName"] }
    public var comment: String? { fields["Comment"].flatMap { $0 == "(null)" ? nil : $0 } }
    public var state: SlurmJobState? { fields["JobState"].flatMap(SlurmJobState.init(slurm:)) }
    public var reason: String? { fields["Reason"].flatMap { $0 == "None" ? nil : $0 } }
    public var restarts: Int { fields["Restarts"].flatMap { Int($0) } ?? 0 }
    /// "1:0": exit status and signal of the batch script.
    public var exitCode: String? { fields["ExitCode"] }
    public var nodes: String? { fields["NodeList"].flatMap { $0 == "(null)" ? nil : $0 } }

    /// The array task indices this record stands for (one for a started task; several for the
    /// pending remainder of an array; none for a job that is not an array).
    public var taskIndices: [Int] {
        guard let text = fields["ArrayTaskId"] else { return [] }
        return Self.indices(text)
    }

    /// Expands "1-3,7%2" (the throttle after % is ignored) into [1, 2, 3, 7].
    public static func indices(_ text: String) -> [Int] {
        let spec = text.split(separator: "%", maxSplits: 1).first ?? ""
        var out: [Int] = []
        for part in spec.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            if bounds.count == 1 {
                out.append(bounds[0])
            } else if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 1_000_000 {
                out += Array(bounds[0]...bounds[1])
            }
        }
        return out
    }

    /// Parses `scontrol show job -o` output: one record per non-empty line.
    public static func parse(_ output: String) -> [SlurmJobRecord] {
        output.split(separator: "\n").compactMap { line in
            let fields = parseLine(String(line))
            return fields.isEmpty ? nil : SlurmJobRecord(fields: fields)
        }
    }

    /// Splits "JobId=12 JobName=a b Comment=x" at each space followed by a `Key=` word.
    static func parseLine(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        var key: String?
        var value = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if let eq = word.firstIndex(of: "="),
                word[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == ":" || $0 == "_" }),
                eq != word.startIndex
            {
                if let key { fields[key] = value }
                key = String(word[..<eq])
                value = String(word[word.index(after: eq)...])
            } else if key != nil {
                value += " " + word
            }
        }
        if let key { fields[key] = value }
        return fields
    }
}
