// MetricsFile: the daemon's Prometheus text exposition (format 0.0.4) for node_exporter's textfile
// collector, rewritten atomically (temp file + rename, so the collector never reads half a file) at every
// step boundary and state change: jobs per spool state, videos rendered, errors by kind, each running
// job's step, steps and ETA, seconds per full and per cached step, the last success, build info.

import Foundation
import Jobs
import Latte
import Logging
import Render
import Spool

final class MetricsFile: @unchecked Sendable {
    private let lock = NSLock()
    private let version: String
    private let started = Date()
    private var jobs = (queued: 0, running: 0, done: 0, failed: 0)
    private var videosRendered = 0
    private var endings: [JobEnding: Int] = [:]
    private var errors: [String: Int] = [:]
    private var stepSeconds: [StepMode: (sum: Double, count: Int)] = [:]
    private var lastSuccess: Date?
    private var progress: [String: RenderProgress] = [:]
    private var reportedWriteError = false

    init(version: String) { self.version = version }

    /// Re-counts the spool's states and writes the file (a job was claimed, ended or released).
    func stateChanged(spool: SpoolDirectory, settings: MetricsSettings, logger: Logger) {
        guard settings.textfile != nil else { return }
        do {
            let counts = try spool.counts()
            lock.withLock { jobs = counts }
        } catch {
            logger.debug("metrics: cannot count the spool's jobs: \(error)")
        }
        write(settings, logger: logger)
    }

    /// A running job reported progress (at every step boundary and phase change).
    func progressed(_ job: String, _ p: RenderProgress, settings: MetricsSettings, logger: Logger) {
        guard settings.textfile != nil else { return }
        lock.withLock {
            progress[job] = p
            if let step = p.lastStep {
                let old = stepSeconds[step.mode] ?? (0, 0)
                stepSeconds[step.mode] = (old.sum + step.seconds, old.count + 1)
            }
        }
        write(settings, logger: logger)
    }

    /// A job ended; `failure` names the kind of error of a failed job ("invalid_job", "render", ...).
    func ended(_ job: String, ending: JobEnding, videos: Int, failure: String?) {
        lock.withLock {
            progress[job] = nil
            endings[ending, default: 0] += 1
            videosRendered += videos
            if ending == .done { lastSuccess = Date() }
            if ending == .failed { errors[failure ?? "render", default: 0] += 1 }
        }
    }

    /// A job left this daemon without ending (released at shutdown, taken over).
    func left(_ job: String) { lock.withLock { progress[job] = nil } }

    /// The exposition text.
    func text() -> String {
        lock.withLock {
            var out = MetricsText()
            out.family("skipdit_build_info", "gauge", "The skipdit version (value 1).")
            out.sample("skipdit_build_info", ["version": version], 1)
            out.family("skipdit_start_time_seconds", "gauge", "When the daemon started (Unix time).")
            out.sample("skipdit_start_time_seconds", [:], started.timeIntervalSince1970)
            out.family("skipdit_jobs", "gauge", "Jobs in the spool by state.")
            for (state, n) in [("queued", jobs.queued), ("running", jobs.running), ("done", jobs.done),
                               ("failed", jobs.failed)] {
                out.sample("skipdit_jobs", ["state": state], Double(n))
            }
            out.family("skipdit_jobs_ended_total", "counter", "Jobs this daemon ended, by ending.")
            for ending in JobEnding.allCases {
                out.sample("skipdit_jobs_ended_total", ["ending": ending.rawValue], Double(endings[ending] ?? 0))
            }
            out.family("skipdit_videos_rendered_total", "counter", "Videos of jobs this daemon finished.")
            out.sample("skipdit_videos_rendered_total", [:], Double(videosRendered))
            out.family("skipdit_render_errors_total", "counter", "Failed jobs by kind of error.")
            for kind in Set(["invalid_job", "render"]).union(errors.keys).sorted() {
                out.sample("skipdit_render_errors_total", ["kind": kind], Double(errors[kind] ?? 0))
            }
            out.family("skipdit_step_seconds", "summary", "Seconds per sampler step, by kind (full or cached).")
            for mode in [StepMode.full, .cached] {
                let s = stepSeconds[mode] ?? (0, 0)
                out.sample("skipdit_step_seconds_sum", ["kind": mode.rawValue], s.sum)
                out.sample("skipdit_step_seconds_count", ["kind": mode.rawValue], Double(s.count))
            }
            out.family("skipdit_last_success_timestamp_seconds", "gauge", "When a job last ended done (Unix time; 0: never).")
            out.sample("skipdit_last_success_timestamp_seconds", [:], lastSuccess?.timeIntervalSince1970 ?? 0)
            out.family("skipdit_job_step", "gauge", "The running job's sampler step in its current video.")
            for (job, p) in progress.sorted(by: { $0.key < $1.key }) {
                out.sample("skipdit_job_step", ["job": job], Double(p.phase == .denoising ? p.step : 0))
            }
            out.family("skipdit_job_steps", "gauge", "Sampler steps per video of the running job.")
            for (job, p) in progress.sorted(by: { $0.key < $1.key }) {
                out.sample("skipdit_job_steps", ["job": job], Double(p.steps))
            }
            out.family("skipdit_job_video", "gauge", "The running job's current video (1-based) and its video count.")
            for (job, p) in progress.sorted(by: { $0.key < $1.key }) {
                out.sample("skipdit_job_video", ["job": job, "of": String(p.videos)], Double(min(p.video + 1, p.videos)))
            }
            out.family("skipdit_job_eta_seconds", "gauge", "Estimated seconds until the running job is done.")
            for (job, p) in progress.sorted(by: { $0.key < $1.key }) {
                if let eta = p.etaSeconds { out.sample("skipdit_job_eta_seconds", ["job": job], eta) }
            }
            return out.text
        }
    }

    private func write(_ settings: MetricsSettings, logger: Logger) {
        guard let url = settings.textfile else { return }
        do {
            try Data(text().utf8).write(to: url, options: .atomic)  // a temp file renamed over it
            lock.withLock { reportedWriteError = false }
        } catch {
            // Once per run of failures: a missing collector folder must not flood the log at every step.
            let first = lock.withLock {
                defer { reportedWriteError = true }
                return !reportedWriteError
            }
            if first { logger.warning("cannot write the metrics file \(url.path): \(error)") }
        }
    }
}

/// Builds Prometheus text exposition: HELP and TYPE lines per family, then its samples.
struct MetricsText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        text += name + (rendered.isEmpty ? "" : "{" + rendered.joined(separator: ",") + "}") + " " + Self.number(value)
            + "\n"
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return String(v)
    }
}
