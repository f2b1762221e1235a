// Running a benchmark in a child process (this same executable, another environment) and reading
// its JSON-lines results, e.g. OpenBLAS "as shipped", whose kernel choice is fixed at library load.

import Foundation

/// Runs `executable arguments…` with environment changes and parses its stdout as JSON lines.
public enum ChildBenchmark {
    /// The path of the running executable.
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs the child to completion. `set` adds or replaces variables; `unset` removes them.
    public static func run(
        executable: String = currentExecutable, arguments: [String], set: [String: String] = [:], unset: [String] = []
    ) throws(BenchmarkError) -> [BenchmarkResult] {
        let command = ([executable] + arguments).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for name in unset { env.removeValue(forKey: name) }
        for (k, v) in set { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw .childFailed(command: command, status: -1, stderr: "\(error)")
        }
        // Read stderr concurrently so a chatty child cannot block on a full pipe.
        let errBox = ErrorText()
        let errDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errBox.text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            errDone.signal()
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        errDone.wait()
        guard process.terminationStatus == 0 else {
            throw .childFailed(command: command, status: process.terminationStatus, stderr: errBox.text)
        }
        var results: [BenchmarkResult] = []
        for line in stdout.split(separator: "\n") where line.hasPrefix("{") {
            do {
                results.append(try BenchmarkReport.parse(jsonLine: String(line)))
            } catch {
                throw .childOutput(command: command, line: String(line), reason: "\(error)")
            }
        }
        return results
    }

    private final class ErrorText: @unchecked Sendable {
        private let lock = NSLock()
        private var _text = ""
        var text: String {
            get { lock.lock(); defer { lock.unlock() }; return _text }
            set { lock.lock(); _text = newValue; lock.unlock() }
        }
    }
}
