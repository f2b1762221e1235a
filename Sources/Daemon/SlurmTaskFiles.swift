// SlurmTaskFiles: what an array task and the daemon share in the job's spool folder (processing/<id>/,
// on the shared filesystem), per video N (1-based, the array index):
//   video-N.state          the render state, saved every few steps and when the task is stopped
//   video-N.progress.json  the task's phase and step (written at most once a second)
//   video-N.result.json    written last, atomically, when the video's MP4 and poster are in place
//   slurm-<array>_N.out    the task's stdout and stderr (sbatch --output, appended across requeues)
// and the exit statuses by which a task tells the daemon why it failed.

import Foundation
import Render

/// The per-video files of a job folder.
public struct SlurmTaskFiles: Sendable {
    public let jobDirectory: URL
    public let video: Int

    public init(jobDirectory: URL, video: Int) {
        self.jobDirectory = jobDirectory
        self.video = video
    }

    public var state: URL { jobDirectory.appendingPathComponent("video-\(video).state") }
    public var progress: URL { jobDirectory.appendingPathComponent("video-\(video).progress.json") }
    public var result: URL { jobDirectory.appendingPathComponent("video-\(video).result.json") }
    /// The task's output file of array `array`.
    public func output(array: Int) -> URL { jobDirectory.appendingPathComponent("slurm-\(array)_\(video).out") }
    /// The task's last progress, if it wrote one that reads.
    public func readProgress() -> SlurmVideoProgress? {
        (try? Data(contentsOf: progress)).flatMap { try? JSONDecoder().decode(SlurmVideoProgress.self, from: $0) }
    }

    /// Writes the progress atomically (for watching only: a failed write is not an error).
    public func writeProgress(_ record: SlurmVideoProgress) {
        try? JSONEncoder().encode(record).write(to: progress, options: .atomic)
    }

    /// The video's result record, if it is in place and reads.
    public func readResult() -> SlurmVideoResult? {
        (try? Data(contentsOf: result)).flatMap { try? SlurmVideoResult.decode($0) }
    }

    /// sbatch's `--output` pattern for a job folder.
    public static func outputPattern(_ jobDirectory: URL) -> String {
        jobDirectory.appendingPathComponent("slurm-%A_%a.out").path
    }
}

/// A task's progress (video-N.progress.json).
public struct SlurmVideoProgress: Codable, Sendable, Equatable {
    /// "loading", "denoising", "decoding", ...
    public var phase: String
    public var step: Int
    public var steps: Int
    /// Seconds since 1970 of the update.
    public var updated: Double

    public init(phase: String, step: Int, steps: Int, updated: Double) {
        self.phase = phase
        self.step = step
        self.steps = steps
        self.updated = updated
    }
}

/// What a task records when its video is done.
public struct SlurmVideoResult: Codable, Sendable, Equatable {
    public var video: FinishedVideo
    /// What computed it (library, precision, threads, cpu), as in result.yaml's computed_by.
    public var computedBy: [String: String]
    public var host: String
    /// Slurm's job id of the task and how often Slurm restarted it.
    public var slurmJobID: String?
    public var restarts: Int
    /// Step the last run resumed from (nil: it started fresh).
    public var resumedFromStep: Int?
    public var wallSeconds: Double

    public init(
        video: FinishedVideo, computedBy: [String: String], host: String, slurmJobID: String?, restarts: Int,
        resumedFromStep: Int?, wallSeconds: Double
    ) {
        self.video = video
        self.computedBy = computedBy
        self.host = host
        self.slurmJobID = slurmJobID
        self.restarts = restarts
        self.resumedFromStep = resumedFromStep
        self.wallSeconds = wallSeconds
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> SlurmVideoResult {
        try JSONDecoder().decode(SlurmVideoResult.self, from: data)
    }
}

/// Exit statuses of `skipdit slurm-task` (sysexits values) and what the daemon reports for each.
public enum SlurmTaskExit: Int32, Sendable, CustomStringConvertible {
    /// Stopped at a step boundary with its state saved (requeued by Slurm or by itself).
    case stopped = 75
    /// The job folder (the spool) is not visible on the node.
    case spoolNotVisible = 66
    /// A model file is missing or unreadable on the node.
    case modelNotVisible = 69
    /// The output folder cannot be written on the node.
    case outputNotWritable = 73
    /// The daemon configuration cannot be read on the node.
    case configNotReadable = 78
    /// The job file does not validate on the node (another skipdit version or config there?).
    case invalidJob = 65
    /// The render itself failed.
    case renderFailed = 70

    public var description: String {
        switch self {
        case .stopped: return "stopped with its state saved"
        case .spoolNotVisible: return "the node cannot see the job's spool folder"
        case .modelNotVisible: return "a model file is missing or unreadable on the node"
        case .outputNotWritable: return "the node cannot write the output folder"
        case .configNotReadable: return "the node cannot read the configuration"
        case .invalidJob: return "the job does not validate on the node"
        case .renderFailed: return "the render failed"
        }
    }
}
