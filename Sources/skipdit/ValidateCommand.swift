// skipdit validate: checks job files (syntax, keys, types, ranges, model/class, limits, output paths)
// against the daemon config without rendering; prints `FILE: ok` or the errors, exits 1 if any fail.
// The config is checked too, its model files included (exist, readable, parse; headers only): a broken
// model is reported at its line in the config, and jobs naming it fail with that problem.

import ArgumentParser
import Foundation
import Jobs
import Render

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check job files without rendering; errors are printed as file:line:column.")

    @Argument(help: "Job files (YAML).")
    var jobs: [String] = []

    @Option(
        name: .long,
        help:
            "Daemon config (default: \(DaemonConfig.defaultPath); also checks it and its model files). Without a config file only the job format is checked."
    )
    var config: String?

    func run() async throws {
        let configPath = config ?? DaemonConfig.defaultPath
        var daemonConfig: DaemonConfig?
        var failed = 0
        if config != nil || FileManager.default.fileExists(atPath: configPath) {
            do {
                let loaded = try DaemonConfig.load(contentsOf: URL(fileURLWithPath: configPath), file: configPath)
                daemonConfig = ModelFileCheck.checked(loaded)
            } catch {
                printError(error)
                throw ExitCode(1)
            }
            let problems = daemonConfig?.modelDiagnostics ?? []
            if problems.isEmpty {
                if jobs.isEmpty { print("\(configPath): ok") }
            } else {
                failed += 1
                for diagnostic in problems { printError(diagnostic) }
            }
        } else {
            printError("note: no config at \(configPath); checking the job format only (use --config FILE)")
        }
        if jobs.isEmpty && daemonConfig == nil {
            throw ValidationError("give job files and/or --config FILE")
        }
        for path in jobs {
            let url = URL(fileURLWithPath: path)
            do {
                if let daemonConfig {
                    let plan = try JobFile.validate(url, config: daemonConfig, file: path)
                    let outputs = plan.videos.map(\.relativePath).joined(separator: ", ")
                    print(
                        "\(path): ok (\(plan.model.name), \(plan.videos.count) video\(plan.videos.count == 1 ? "" : "s"): \(outputs))"
                    )
                } else {
                    _ = try JobSpec.load(contentsOf: url, file: path)
                    print("\(path): ok (format only)")
                }
            } catch {
                failed += 1
                printError(error)
            }
        }
        failed += dependencyCycles()
        if failed > 0 { throw ExitCode(1) }
    }

    /// Reports the dependency cycles among the given files (`after:`; a job's id is its file's stem);
    /// returns how many there are.
    private func dependencyCycles() -> Int {
        var after: [String: [String]] = [:]
        var files: [String: String] = [:]
        for path in jobs {
            guard let spec = try? JobSpec.load(contentsOf: URL(fileURLWithPath: path), file: path) else { continue }
            let id = RenderPlan.jobName(forFile: path)
            after[id] = spec.after
            files[id] = path
        }
        let cycles = DependencyGraph(after: after).cycles().filter { $0.count > 2 }  // self-waits are reported per file
        for cycle in cycles {
            let paths = cycle.dropLast().compactMap { files[$0] }.joined(separator: ", ")
            printError(
                "\(paths): error: dependency cycle: \(DependencyGraph.text(cycle))\n  hint: remove one of these jobs from another's 'after'"
            )
        }
        return cycles.count
    }

    private func printError(_ message: Any) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }
}
