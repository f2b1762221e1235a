// ChildProcess: runs a program as a child process with an argument vector (no shell), an optional
// environment and stdin text, and a deadline, and returns what it printed. The Slurm client programs
// and the notification commands run through it.

import Foundation

public enum ChildProcess {
    /// What a finished program printed.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Why a program gave no output.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Not found on the search path, or not executable.
        case notFound(program: String, searched: [String])
        /// It could not be started.
        case cannotStart(path: String, reason: String)
        /// It did not finish within the deadline (it was sent SIGTERM, then SIGKILL).
        case timedOut(path: String, seconds: Double)

        public var description: String {
            switch self {
            case let .notFound(program, searched):
                return "\(program) not found (searched \(searched.joined(separator: ":")))"
            case let .cannotStart(path, reason): return "cannot start \(path): \(reason)"
            case let .timedOut(path, seconds): return "\(path) did not finish within \(Int(seconds.rounded())) s"
            }
        }
    }

    /// The folders of a PATH value, in order (a standard list when it is unset).
    public static func searchPath(_ environment: [String: String]) -> [String] {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// `program` itself when it holds a "/", else the first executable of that name on `searchPath`.
    public static func locate(_ program: String, searchPath: [String]) throws(Failure) -> String {
        if program.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: program) else {
                throw .notFound(program: program, searched: [])
            }
            return program
        }
        for folder in searchPath {
            let candidate = folder + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .notFound(program: program, searched: searchPath)
    }

    /// Runs the executable at `path` with `arguments`, `environment` (nil: this process's) and `input`
    /// on stdin (nil: /dev/null); waits at most `timeout` seconds. Both output pipes are read while it
    /// runs, so a long answer cannot stall it.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
        timeout: Double
    ) throws(Failure) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        let stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            throw .cannotStart(path: path, reason: "\(error)")
        }
        if let input {
            // A program that exits without reading its input must not kill us with SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let outData = ReadAll(out.fileHandleForReading)
        let errData = ReadAll(err.fileHandleForReading)
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            if finished.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = finished.wait(timeout: .now() + 5)
            }
            throw .timedOut(path: path, seconds: timeout)
        }
        return Output(status: process.terminationStatus, stdout: outData.text(), stderr: errData.text())
    }
}

/// Reads a pipe to its end on a background thread.
private final class ReadAll: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
