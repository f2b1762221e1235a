// skipdit slurm-task — what one array task of the Slurm executor runs on a compute node (the batch
// script `exec`s it, so it receives Slurm's signals itself). It renders video N of a job folder in
// the shared spool through the same pipeline as a local render, resuming from video-N.state, and
// writes the MP4 and poster atomically into the output folder, then video-N.result.json.
// SIGUSR1 (the time limit is near) saves the state at the next step boundary and requeues the task
// (`scontrol requeue $SLURM_JOB_ID`); SIGTERM (preemption, requeue, scancel) saves it and exits 75, and
// Slurm decides what comes next. What the node cannot see (the spool, a model, the output folder) is
// said on stderr, naming the path, and in the exit status (SlurmTaskExit), which the daemon reads.

import ArgumentParser
import Daemon
import Foundation
import Jobs
import Render
import Slurm

struct SlurmTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm-task",
        abstract: "Render one video of a spool job as a Slurm array task (run by the Slurm executor).")

    @Option(help: "The daemon configuration (models, output folder, compute).")
    var config: String = DaemonConfig.defaultPath

    @Option(help: "The job's folder in the spool (processing/<id>), on the shared filesystem.")
    var jobDir: String

    @Option(help: "The video to render (1-based; default: $SLURM_ARRAY_TASK_ID).")
    var video: Int?

    @Option(help: "Worker threads (default: compute.threads of the configuration).")
    var threads: Int?

    /// Testing aid (the daemon passes its own --step-delay on): wait this long at every step boundary.
    @Option(help: .hidden)
    var stepDelay: Double = 0

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let number = video ?? environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }), number >= 1 else {
            throw ValidationError("give --video N (or run as a Slurm array task: SLURM_ARRAY_TASK_ID)")
        }
        let host = ProcessInfo.processInfo.hostName
        let slurmJob = environment["SLURM_JOB_ID"]
        let restarts = environment["SLURM_RESTART_COUNT"].flatMap { Int($0) } ?? 0
        let directory = URL(fileURLWithPath: jobDir)
        let jobID = directory.lastPathComponent
        let files = SlurmTaskFiles(jobDirectory: directory, video: number)
        say("job \(jobID) video \(number) on \(host) (slurm job \(slurmJob ?? "-"), restart \(restarts))")

        let jobFile = directory.appendingPathComponent("job.yaml")
        guard FileManager.default.isReadableFile(atPath: jobFile.path) else {
            fail(
                .spoolNotVisible,
                "the job folder \(directory.path) is not visible on \(host) (\(jobFile.path) is missing or unreadable); the spool must be shared with the compute nodes"
            )
        }
        var daemonConfig: DaemonConfig
        do {
            daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config), file: config)
        } catch {
            fail(.configNotReadable, "cannot read the configuration \(config) on \(host): \(error)")
        }
        if let threads { daemonConfig.compute.threads = threads }
        let plan: RenderPlan
        do {
            plan = try JobFile.validate(jobFile, config: daemonConfig, file: jobFile.path, jobName: jobID)
        } catch {
            fail(.invalidJob, "the job does not validate on \(host):\n\(error)")
        }
        guard number <= plan.videos.count else {
            fail(.invalidJob, "video \(number): the job has \(plan.videos.count) video(s)")
        }
        do {
            try ModelFileCheck.check(plan.model, configFile: config)
        } catch {
            fail(.modelNotVisible, "model '\(plan.model.name)' is not usable on \(host): \(error.message)")
        }

        // A run of this task killed while it wrote the video or its poster (preempted, requeued, its node
        // lost) left the temp file behind.
        for url in RenderPipeline.removePartialOutputs(of: plan, video: number - 1) {
            say("removed \(url.path), a partial output of an earlier run")
        }
        var resume: RenderState?
        if let data = try? Data(contentsOf: files.state) {
            do { resume = try RenderState.decode(data) } catch {
                say("ignoring an unreadable state file \(files.state.path) (the video starts over): \(error)")
            }
        }
        if let resume {
            say("resuming at step \(resume.iteration) from \(files.state.path)")
        }
        let resumedStep = resume.flatMap { $0.videoIndex == number - 1 ? $0.iteration : nil }
        let signals = StopSignals()
        let observer = SlurmTaskObserver(files: files, signals: signals, stepDelay: stepDelay)
        let pipeline = RenderPipeline(
            compute: daemonConfig.compute, checkpointEvery: daemonConfig.daemon.checkpointEvery)
        let started = Date()
        let result: JobResult
        do {
            result = try pipeline.render(plan: plan, resume: resume, observer: observer, videos: (number - 1)..<number)
        } catch RenderError.stopped {
            let signal = signals.stopSignal
            if signal == SIGUSR1, let slurmJob {
                do {
                    try SlurmController().requeue(job: slurmJob)
                    say("stopped at a step boundary with the state saved; requeued \(slurmJob)")
                } catch {
                    say("stopped with the state saved, but the requeue failed (the daemon requeues it): \(error)")
                }
            } else {
                say("stopped at a step boundary with the state saved in \(files.state.path)")
            }
            throw ExitCode(SlurmTaskExit.stopped.rawValue)
        } catch RenderError.output(let path, let reason) {
            fail(.outputNotWritable, "cannot write the output \(path) on \(host): \(reason)")
        } catch {
            fail(.renderFailed, "the render failed on \(host): \(error)")
        }
        guard let finished = result.videos.first else { fail(.renderFailed, "the render returned no video") }
        let record = SlurmVideoResult(
            video: finished, computedBy: Dictionary(result.computedBy, uniquingKeysWith: { $1 }), host: host,
            slurmJobID: slurmJob, restarts: restarts, resumedFromStep: resumedStep,
            wallSeconds: Date().timeIntervalSince(started))
        do {
            try record.encoded().write(to: files.result, options: .atomic)
        } catch {
            fail(.spoolNotVisible, "cannot write \(files.result.path) on \(host): \(error)")
        }
        try? FileManager.default.removeItem(at: files.state)
        say("done: \(daemonConfig.output.appendingPathComponent(finished.path).path)")
    }

    private func say(_ line: String) {
        FileHandle.standardError.write(Data("skipdit slurm-task: \(line)\n".utf8))
    }

    private func fail(_ exit: SlurmTaskExit, _ message: String) -> Never {
        say(message)
        Foundation.exit(exit.rawValue)
    }
}

/// Saves the state next to the job, writes progress at most once a second and stops on a signal.
final class SlurmTaskObserver: RenderObserver {
    private let files: SlurmTaskFiles
    private let signals: StopSignals
    private var lastWrite = Date.distantPast
    private var lastPhase: RenderProgress.Phase?
    private let stepDelay: Double

    init(files: SlurmTaskFiles, signals: StopSignals, stepDelay: Double) {
        self.files = files
        self.signals = signals
        self.stepDelay = stepDelay
    }

    func progress(_ p: RenderProgress) {
        let now = Date()
        guard p.phase != lastPhase || now.timeIntervalSince(lastWrite) >= 1 || p.step == p.steps else { return }
        lastPhase = p.phase
        lastWrite = now
        let record = SlurmVideoProgress(
            phase: p.phase.rawValue, step: p.phase == .denoising ? p.step : 0, steps: p.steps,
            updated: now.timeIntervalSince1970)
        files.writeProgress(record)
    }

    func save(_ state: RenderState) throws {
        try state.encoded().write(to: files.state, options: .atomic)
    }

    func control() -> RenderControl {
        let end = Date().addingTimeInterval(stepDelay)
        while signals.stopSignal == nil, Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        return signals.stopSignal == nil ? .proceed : .stop
    }
}
