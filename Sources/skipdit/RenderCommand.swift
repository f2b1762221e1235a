// skipdit render JOB.yaml — render one job in the foreground through the daemon's pipeline, with a
// progress bar on a terminal. The render state is kept next to the job (JOB.yaml.state) while it
// runs, so an interrupted render resumes where it stopped. `--video N` renders only the N-th video
// of the job (its own state file): the unit a cluster task runs. SIGTERM, SIGINT or SIGUSR1 stop the
// render at the next step boundary with its state saved, and the command exits 75 (EX_TEMPFAIL);
// running it again resumes to the same file an uninterrupted render writes.

import ArgumentParser
import Foundation
import Jobs
import Render

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Render one job file (or one video of it) in the foreground.")

    /// Exit status of a render stopped at a step boundary with its state saved (sysexits EX_TEMPFAIL).
    static let stoppedStatus: Int32 = 75

    @Argument(help: "The job file (YAML).")
    var job: String

    @Option(help: "The daemon configuration (models, output folder, compute).")
    var config: String = DaemonConfig.defaultPath

    @Option(help: "Override the output folder of the configuration.")
    var output: String?

    @Option(help: "Render only the N-th video of the job (1-based position in its seed list).")
    var video: Int?

    @Option(help: "The render state file (default: JOB.state, or JOB.video-N.state with --video).")
    var state: String?

    @Option(help: .hidden)
    var stopAfterSteps: Int?

    func validate() throws {
        if let video, video < 1 { throw ValidationError("--video counts from 1") }
        if let stopAfterSteps, stopAfterSteps < 1 { throw ValidationError("--stop-after-steps must be at least 1") }
    }

    func run() throws {
        var daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config))
        if let output { daemonConfig.output = URL(fileURLWithPath: output) }
        let jobURL = URL(fileURLWithPath: job)
        let plan = try JobFile.validate(jobURL, config: daemonConfig)
        if let video, video > plan.videos.count {
            throw ValidationError("--video \(video): the job has \(plan.videos.count) video(s)")
        }
        let videos = video.map { ($0 - 1)..<$0 }
        let stateURL = URL(fileURLWithPath: state ?? job + (video.map { ".video-\($0).state" } ?? ".state"))
        let resume = (try? Data(contentsOf: stateURL)).flatMap { try? RenderState.decode($0) }
        let signals = StopSignals()
        let observer = TerminalProgress(stateURL: stateURL, signals: signals, stopAfterSteps: stopAfterSteps)
        let pipeline = RenderPipeline(compute: daemonConfig.compute)
        let result: JobResult
        do {
            result = try pipeline.render(plan: plan, resume: resume, observer: observer, videos: videos)
        } catch RenderError.stopped {
            observer.finish()
            FileHandle.standardError.write(Data("stopped; state saved in \(stateURL.path); run again to resume\n".utf8))
            throw ExitCode(Self.stoppedStatus)
        }
        observer.finish()
        try? FileManager.default.removeItem(at: stateURL)
        for v in result.videos {
            print(daemonConfig.output.appendingPathComponent(v.path).path)
        }
    }
}

/// Progress on stderr: a bar on a terminal, a line per phase otherwise.
final class TerminalProgress: RenderObserver {
    let stateURL: URL
    private let signals: StopSignals
    /// Stop once this many sampler steps have run in this process (a testing aid), if set.
    private let stopAfterSteps: Int?
    private var stepsRun = 0
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastPhase: RenderProgress.Phase?

    init(stateURL: URL, signals: StopSignals, stopAfterSteps: Int?) {
        self.stateURL = stateURL
        self.signals = signals
        self.stopAfterSteps = stopAfterSteps
    }

    func progress(_ p: RenderProgress) {
        if p.phase == .denoising { stepsRun += 1 }
        if isTerminal {
            let width = 30
            let filled = p.steps > 0 ? width * p.step / p.steps : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let eta = p.etaSeconds.map { String(format: " ETA %.0fs", $0) } ?? ""
            FileHandle.standardError.write(
                Data(
                    "\r\(p.phase.rawValue) video \(min(p.video + 1, p.videos))/\(p.videos) [\(bar)] \(p.step)/\(p.steps)\(eta)   "
                        .utf8))
        } else if p.phase != lastPhase {
            FileHandle.standardError.write(
                Data("\(p.phase.rawValue) video \(min(p.video + 1, p.videos))/\(p.videos)\n".utf8))
        }
        lastPhase = p.phase
    }

    func save(_ state: RenderState) throws {
        try state.encoded().write(to: stateURL, options: .atomic)
    }

    func control() -> RenderControl {
        if signals.stopSignal != nil { return .stop }
        if let stopAfterSteps, stepsRun >= stopAfterSteps { return .stop }
        return .proceed
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
