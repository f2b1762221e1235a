// StatusReport: the text `skipdit status` prints for a spool snapshot: the queue in claim order, the
// jobs in processing/ with their phase, step k/N and ETA (on Slurm: the array and each video's Slurm
// state, step and node), and the most recent results.
//
//   spool /var/spool/skipdit
//   held: nothing new starts (since 2024-11-22 18:00:00, pid 90 on host-a); `skipdit release --all`
//   running (1)
//     biking         denoising video 1/2, step 12/50, ETA 3m 10s  (pid 812 on host-a, 2s ago)
//   queued (2)
//     sky            priority 0, waiting 4m 02s
//     ucf-2          priority 0, waiting 10s, resumes from its checkpoint
//     grade          priority 0, waiting 2m 01s, after sky
//   held (1)
//     night          priority 5 (set), held 1h 02m, resumes from its checkpoint
//   recent (2)
//     2024-11-22 06:01:02  done    ucf-1
//     2024-11-22 06:00:40  failed  bad: bad.yaml:3:8: error: unknown key 'setps' …

import Foundation
import Spool

/// Formats `SpoolStatus` snapshots.
public enum StatusReport {
    /// The report text (ends with a newline).
    public static func text(_ status: SpoolStatus, spool: URL, now: Date = Date()) -> String {
        var lines = ["spool \(spool.path)"]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        if let hold = status.spoolHold {
            let since = hold.since.map { "since \(formatter.string(from: $0)), " } ?? ""
            lines.append("held: nothing new starts (\(since)\(hold.by)); `skipdit release --all`")
        }
        let active = status.running.filter { $0.state == .alive || $0.state == .ours }
        lines.append("running (\(active.count))")
        let width = max(
            12,
            (active.map(\.id) + status.queued.map(\.id) + status.held.map(\.id) + status.finished.map(\.id)).map(
                \.count
            ).max() ?? 0)
        for job in active {
            var text = "  " + pad(job.id, width) + "  "
            if let p = job.progress {
                text += p.phase
                if p.totalSteps > 0 { text += ", " + p.stepText }
                if let eta = p.etaSeconds { text += ", ETA \(Durations.text(eta))" }
            } else {
                text += "starting"
            }
            var owner: [String] = []
            if let lease = job.lease { owner.append("pid \(lease.owner.pid) on \(lease.owner.host)") }
            if let updated = job.progress?.updated {
                owner.append("\(Durations.text(now.timeIntervalSince(updated))) ago")
            }
            if job.cancelRequested { owner.append("cancel requested") }
            if job.holdRequested { owner.append("hold requested") }
            if !owner.isEmpty { text += "  (" + owner.joined(separator: ", ") + ")" }
            lines.append(text)
            lines += slurmLines(spool.appendingPathComponent("processing").appendingPathComponent(job.id), width: width)
        }
        lines.append("queued (\(status.queued.count))")
        for job in status.queued { lines.append(queuedLine(job, width: width, now: now)) }
        if !status.held.isEmpty {
            lines.append("held (\(status.held.count))")
            for job in status.held { lines.append(queuedLine(job, width: width, now: now)) }
        }
        lines.append("recent (\(status.finished.count))")
        for job in status.finished {
            let when = job.finished.map { formatter.string(from: $0) } ?? "?"
            switch job.outcome {
            case .done:
                lines.append("  \(when)  done    \(job.id)")
            case let .failed(reason):
                lines.append("  \(when)  failed  \(job.id): \(firstLine(reason))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "  id  priority 3 (set), waiting 4m 02s, after a, b, transient failure 1, again in 50s".
    static func queuedLine(_ job: QueuedJob, width: Int, now: Date) -> String {
        var text =
            "  " + pad(job.id, width) + "  priority \(job.priority)" + (job.priorityOverridden ? " (set)" : "")
            + (job.held ? ", held " : ", waiting ") + Durations.text(now.timeIntervalSince(job.submitted))
        if !job.waitingFor.isEmpty { text += ", after \(job.waitingFor.joined(separator: ", "))" }
        if let notBefore = job.notBefore {
            text += ", transient failure \(job.transientFailures), again in "
            text += Durations.text(notBefore.timeIntervalSince(now))
        }
        if job.location == .processing { text += ", resumes from its checkpoint" }
        return text
    }

    /// One line per video of a job on the Slurm executor (none for a local job):
    ///     video 1    RUNNING, step 12/50 on node3 (task 812_1)
    ///     video 2    PENDING (Priority), attempt 2 of 3
    static func slurmLines(_ directory: URL, width: Int) -> [String] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(SlurmSubmission.fileName)),
            let s = try? SlurmSubmission.decode(data)
        else { return [] }
        var lines: [String] = []
        if let array = s.arrays.last { lines.append("    slurm array \(array) (squeue -n \(s.name))") }
        for v in s.videos {
            var text =
                "    " + pad("video \(v.number)", max(0, width - 2)) + "  "
                + (v.done ? "done" : v.state ?? "submitting")
            if let reason = v.reason, !v.done { text += " (\(reason))" }
            if !v.done, v.state == "RUNNING",
                let progress = SlurmTaskFiles(jobDirectory: directory, video: v.number).readProgress()
            {
                text +=
                    progress.phase == "denoising" ? ", step \(progress.step)/\(progress.steps)" : ", \(progress.phase)"
            }
            if let node = v.node { text += " on \(node)" }
            if let task = v.task { text += " (task \(task))" }
            if v.attempts > 1 { text += ", attempt \(v.attempts)" }
            lines.append(text)
        }
        return lines
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    private static func firstLine(_ s: String) -> String {
        let lines = s.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first else { return s }
        return lines.count > 1 ? first + " …" : String(first)
    }
}
