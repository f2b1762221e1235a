// SlurmArrayRequest: one job's `sbatch --array` submission: the argument list (skipdit's own options,
// then the executor's, then `sbatch_args` verbatim) and the batch script, which `exec`s skipdit so
// that skipdit itself is the batch shell and receives `--signal=B:USR1@margin` and SIGTERM.

import Jobs

/// What to submit for one job.
public struct SlurmArrayRequest: Sendable, Equatable {
    /// `--job-name` (skipdit-<job id>).
    public var name: String
    /// `--comment` (names the spool job and the submission, so a restarted daemon can adopt it).
    public var comment: String
    /// Array task indices: the 1-based numbers of the videos to render.
    public var indices: [Int]
    /// Most tasks of this array running at once (`%K`).
    public var throttle: Int
    /// `--output` (Slurm's %A/%a patterns allowed).
    public var outputPattern: String
    /// The batch script (sbatch reads it on stdin).
    public var script: String

    public init(name: String, comment: String, indices: [Int], throttle: Int, outputPattern: String, script: String) {
        self.name = name
        self.comment = comment
        self.indices = indices
        self.throttle = throttle
        self.outputPattern = outputPattern
        self.script = script
    }

    /// "1-3,5,7-8" for [1, 2, 3, 5, 7, 8].
    public static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var sorted = Array(Set(indices)).sorted()[...]
        while let first = sorted.first {
            var last = first
            sorted = sorted.dropFirst()
            while let next = sorted.first, next == last + 1 {
                last = next
                sorted = sorted.dropFirst()
            }
            parts.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return parts.joined(separator: ",")
    }

    /// sbatch's arguments for `settings`.
    public func arguments(_ settings: ExecutorSettings) -> [String] {
        var args = [
            "--parsable", "--job-name=\(name)", "--comment=\(comment)",
            "--array=\(Self.arraySpec(indices))%\(max(1, throttle))", "--output=\(outputPattern)",
            "--open-mode=append", "--requeue", "--signal=B:USR1@\(settings.signalMarginSeconds)",
            "--cpus-per-task=\(settings.cpusPerTask)",
        ]
        if let v = settings.partition { args.append("--partition=\(v)") }
        if let v = settings.account { args.append("--account=\(v)") }
        if let v = settings.qos { args.append("--qos=\(v)") }
        if let v = settings.constraint { args.append("--constraint=\(v)") }
        if let v = settings.timeLimit { args.append("--time=\(v)") }
        if let v = settings.mem { args.append("--mem=\(v)") }
        return args + settings.sbatchArgs
    }

    /// A word for sh, single-quoted.
    public static func shellQuote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The batch script: `exec binary arguments` (the video number comes from SLURM_ARRAY_TASK_ID).
    public static func script(binary: String, arguments: [String], jobID: String) -> String {
        """
        #!/bin/sh
        # skipdit task of spool job \(jobID): renders video $SLURM_ARRAY_TASK_ID (written by skipdit serve).
        exec \(([binary] + arguments).map(shellQuote).joined(separator: " "))

        """
    }
}
