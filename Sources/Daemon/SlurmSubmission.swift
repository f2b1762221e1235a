// SlurmSubmission: the Slurm executor's record of one job, processing/<id>/slurm.json, rewritten
// atomically at every change. It is written *before* sbatch is called (the intent: the name and the
// comment the array will carry), so a daemon killed between sbatch and recording its answer — or one
// taking the job over — finds the array by name and comment and adopts it instead of submitting again.
// Per video it keeps the attempts, the last Slurm state seen and every failure with Slurm's reason.

import Foundation
import Spool

/// processing/<id>/slurm.json.
struct SlurmSubmission: Codable, Equatable {
    static let fileName = "slurm.json"

    /// `--job-name`: skipdit-<job id>.
    var name: String
    /// `--comment`: skipdit:<job id>:<token>; the token is new per job claim history, so two spools
    /// that hold the same job id never adopt each other's arrays.
    var comment: String
    /// True from the moment the intent is written until sbatch's answer is recorded in `arrays`.
    var submitting: Bool
    /// Every array submitted for this job, oldest first; the last one is the live one (if any).
    var arrays: [Int]
    /// Per video, in order (video N is `videos[N - 1]`).
    var videos: [Video]
    /// Set when the record was found damaged and rebuilt: adopt an array of this job whatever its token.
    var adoptAnyComment = false
    /// True while `skipdit hold` keeps the arrays held in Slurm (released when the job is tracked again).
    var heldBySkipdit: Bool?

    struct Video: Codable, Equatable {
        /// 1-based video number (the array task index).
        var number: Int
        /// Runs that ended in a failure state, plus one (the run going on or the next).
        var attempts: Int = 1
        /// The last Slurm state seen (PENDING, RUNNING, COMPLETED, ...), nil before the first poll.
        var state: String?
        /// Slurm's reason for the state, or skipdit's words for a failure.
        var reason: String?
        /// The task's Slurm job id ("ARRAY_N"), once known.
        var task: String?
        /// Node it ran on last.
        var node: String?
        /// Done: its result file is in place.
        var done = false
        /// Failed for good (attempts used up, or cancelled outside skipdit).
        var failedForGood = false
        /// When its task was first seen COMPLETED without its result file (seconds since 1970).
        var completedWithoutResultSince: Double?
        /// The failures seen, oldest first.
        var failures: [Failure] = []
    }

    struct Failure: Codable, Equatable {
        var state: String
        var reason: String?
        var exitCode: String?
        var node: String?
        /// Seconds since 1970.
        var at: Double
    }

    /// A fresh record for a job of `count` videos.
    static func fresh(jobID: String, videos count: Int) -> SlurmSubmission {
        var bytes = [UInt8](repeating: 0, count: 6)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        return SlurmSubmission(
            name: "skipdit-\(jobID)", comment: "skipdit:\(jobID):\(token)", submitting: false, arrays: [],
            videos: (1...max(1, count)).map { Video(number: $0) })
    }

    /// The job's record, or nil when it has none yet; an unreadable one is an error.
    static func read(for job: ClaimedJob, in spool: SpoolDirectory) throws -> SlurmSubmission? {
        guard let data = try spool.readJobRecord(named: fileName, for: job) else { return nil }
        return try decode(data)
    }

    static func decode(_ data: Data) throws -> SlurmSubmission {
        try JSONDecoder().decode(SlurmSubmission.self, from: data)
    }

    /// Writes the record atomically (throws `leaseLost` when the job is no longer ours).
    func write(for job: ClaimedJob, in spool: SpoolDirectory) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try spool.writeJobRecord(try encoder.encode(self), named: Self.fileName, for: job)
    }

    /// A record that does not fit the job (damaged by hand or by the disk).
    struct Inconsistent: Error, CustomStringConvertible {
        var description: String { "it does not describe this job's videos" }
    }

    /// True when the record fits a job of `count` videos.
    func isConsistent(videos count: Int) -> Bool {
        videos.count == count
            && videos.enumerated().allSatisfy { $0.element.number == $0.offset + 1 && $0.element.attempts >= 1 }
            && arrays.allSatisfy { $0 > 0 } && name.hasPrefix("skipdit-") && comment.hasPrefix("skipdit:")
    }

    /// Videos still to render (neither done nor failed for good), by number.
    var pending: [Int] { videos.filter { !$0.done && !$0.failedForGood }.map(\.number) }
}
