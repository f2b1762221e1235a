// skipdit render JOB.yaml — render one job in the foreground through the daemon's pipeline, with a
// progress bar on a terminal. The render state is kept next to the job (JOB.yaml.state) while it
// runs, so an interrupted render resumes where it stopped.

import ArgumentParser
import Foundation
import Jobs
import Render

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Render one job file in the foreground.")

    @Argument(help: "The job file (YAML).")
    var job: String

    @Option(help: "The daemon configuration (models, output folder, compute).")
    var config: String = DaemonConfig.defaultPath

    @Option(help: "Override the output folder of the configuration.")
    var output: String?

    func run() throws {
        var daemonConfig = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: config))
        if let output { daemonConfig.output = URL(fileURLWithPath: output) }
        let jobURL = URL(fileURLWithPath: job)
        let plan = try JobFile.validate(jobURL, config: daemonConfig)
        let stateURL = URL(fileURLWithPath: job + ".state")
        let resume = (try? Data(contentsOf: stateURL)).flatMap { try? RenderState.decode($0) }
        let observer = TerminalProgress(stateURL: stateURL)
        let pipeline = RenderPipeline(compute: daemonConfig.compute)
        let result = try pipeline.render(plan: plan, resume: resume, observer: observer)
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
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastPhase: RenderProgress.Phase?

    init(stateURL: URL) { self.stateURL = stateURL }

    func progress(_ p: RenderProgress) {
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

    func control() -> RenderControl { .proceed }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
