// DaemonHarness: runs the real `skipdit` binary (built by `make test` into .build/release) on a temporary
// spool with the tiny fixture models (Tests/Fixtures: the c2v golden checkpoint and the test VAE), and
// reads back what it left: spool directories, result records, progress files, outputs and logs.

import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A failure of the harness (missing binary, timeout), reported as the test's error.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The binary under test.
enum SkipditBinary {
    /// The repository root (this file is Tests/IntegrationTests/DaemonHarness.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// $SKIPDIT_BINARY, or .build/release/skipdit in the repository.
    static var url: URL {
        if let path = ProcessInfo.processInfo.environment["SKIPDIT_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.appendingPathComponent(".build/release/skipdit")
    }

    /// Runs the binary to completion, with `environment` added to this process's; returns its exit
    /// status and its stdout and stderr together. `user` runs it as that user (through setpriv; the
    /// test must run as root).
    static func run(_ arguments: [String], environment: [String: String] = [:], user: String? = nil) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = asUser(user, try require(), arguments)
        } else {
            process.executableURL = try require()
            process.arguments = arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Writes the job `text` to `folder`/`name`.yaml and renders it with `skipdit render` and the
    /// configuration `config`, its videos going to `folder`.
    static func render(job text: String, named name: String, config: URL, in folder: URL) throws -> (
        status: Int32, output: String
    ) {
        let job = folder.appendingPathComponent("\(name).yaml")
        try Data(text.utf8).write(to: job)
        return try run(["render", job.path, "--config", config.path, "--output", folder.path])
    }

    /// setpriv's arguments that run `binary arguments` as `user` (group nogroup, no supplementary groups).
    static func asUser(_ user: String, _ binary: URL, _ arguments: [String]) -> [String] {
        ["--reuid=\(user)", "--regid=nogroup", "--clear-groups", "--", binary.path] + arguments
    }

    /// The binary, or a failure that says how to build it.
    static func require() throws -> URL {
        let url = self.url
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw HarnessError(
                "the skipdit binary is missing at \(url.path): build it first (`make test` does, or "
                    + "`swift build -c release --product skipdit`), or set SKIPDIT_BINARY")
        }
        return url
    }
}

/// A temporary spool, output folder and config using the tiny fixture models.
final class TestSpool {
    let root: URL
    var spool: URL { root.appendingPathComponent("spool") }
    var output: URL { root.appendingPathComponent("out") }
    var config: URL { root.appendingPathComponent("skipdit.yaml") }
    private let staging: URL

    /// Short intervals keep the tests fast: settle 0.1 s, rescan 1 s, heartbeat 0.5 s, checkpoint every 2 steps.
    static let fastDaemon = """
        daemon:
          stability_seconds: 0.1
          rescan_seconds: 1
          heartbeat_seconds: 0.5
          checkpoint_every: 2
        """

    init(_ name: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "skipdit-it-\(name)-\(UUID().uuidString.prefix(8))")
        staging = root.appendingPathComponent("staging")
        for dir in [root, staging] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        try writeConfig()
    }

    /// The model entry `name` on the tiny class-to-video fixture (5 classes, 2 heads), 6 DDIM steps.
    static func tinyModel(_ name: String, checkpoint: String? = nil, vae: String? = nil) -> String {
        let c2v = Fixtures.suite("c2v").appendingPathComponent("ckpt_cond.pt").path
        let vae = vae ?? Fixtures.suite("vae").appendingPathComponent("model/diffusers_safetensors").path
        return """
              \(name):
                preset: demo
                checkpoint: \(checkpoint ?? c2v)
                vae: \(vae)
                num_classes: 5
                heads: 2
                defaults: { steps: 6 }
            """
    }

    /// The model entry `name` on the trained demo model (Models/demo: 7 motion classes, 4 heads, 8 frames).
    static func demoModel(_ name: String) -> String {
        let demo = SkipditBinary.repositoryRoot.appendingPathComponent("Models/demo")
        return """
              \(name):
                preset: demo
                checkpoint: \(demo.appendingPathComponent("latte-demo.pt").path)
                vae: \(demo.appendingPathComponent("vae").path)
                classes: \(demo.appendingPathComponent("classes.txt").path)
                heads: 4
            """
    }

    /// The model entry `name` on the tiny text-to-video fixtures: the t2v base folder (T5, tokenizer,
    /// transformer, scheduler), its Latte-skip.pt, and the tiny temporal VAE; 4 DDIM steps.
    static func tinyTextToVideoModel(_ name: String) -> String {
        let t2v = Fixtures.suite("t2v")
        let vae = Fixtures.suite("vae-temporal").appendingPathComponent("model").path
        return """
              \(name):
                task: text-to-video
                base: \(t2v.appendingPathComponent("model").path)
                checkpoint: \(t2v.appendingPathComponent("skip/Latte-skip.pt").path)
                vae: \(vae)
                defaults: { steps: 4 }
            """
    }

    /// Writes the config with `models` (entries from `tinyModel`) and the fast daemon settings.
    /// `threads` 0 uses every core; the tests default to one thread, which keeps the tiny renders quick
    /// and steady on a busy machine.
    func writeConfig(
        models: [String] = [TestSpool.tinyModel("tiny")], threads: Int = 1, extra: String = TestSpool.fastDaemon
    ) throws {
        let text = """
            spool: \(spool.path)
            output: \(output.path)
            models:
            \(models.joined(separator: "\n"))
            compute: { threads: \(threads) }
            \(extra)

            """
        try Data(text.utf8).write(to: config, options: .atomic)
    }

    /// Drops a job into incoming/ the recommended way: written elsewhere, then renamed in.
    func submit(_ name: String, _ text: String) throws {
        let incoming = spool.appendingPathComponent("incoming")
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        let temporary = staging.appendingPathComponent(name)
        try Data(text.utf8).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: incoming.appendingPathComponent(name))
    }

    /// A job for the tiny model.
    static func job(class label: Int = 3, seeds: [Int] = [1], extra: String = "") -> String {
        "version: 1\nmodel: tiny\nclass: \(label)\nseeds: [\(seeds.map(String.init).joined(separator: ", "))]\n" + extra
    }

    /// Names in spool/<state> (incoming, processing, done, failed), sorted; hidden names excluded.
    func list(_ state: String) -> [String] {
        let names =
            (try? FileManager.default.contentsOfDirectory(atPath: spool.appendingPathComponent(state).path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Files in the output folder (relative paths), sorted.
    func outputs() -> [String] {
        guard let e = FileManager.default.enumerator(atPath: output.path) else { return [] }
        return e.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(
                atPath: output.appendingPathComponent($0).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }.sorted()
    }

    /// spool/<state>/<id>/<file> as text.
    func text(_ state: String, _ id: String, _ file: String) -> String? {
        try? String(
            contentsOf: spool.appendingPathComponent(state).appendingPathComponent(id).appendingPathComponent(file),
            encoding: .utf8)
    }

    /// True when spool/<state>/<id>/<file> exists.
    func exists(_ state: String, _ id: String, _ file: String) -> Bool {
        FileManager.default.fileExists(
            atPath: spool.appendingPathComponent(state).appendingPathComponent(id).appendingPathComponent(file).path)
    }

    /// The result record of a finished job.
    func result(_ state: String, _ id: String) -> String { text(state, id, "result.yaml") ?? "" }

    /// The (phase, step) of a running job's progress.yaml.
    func progress(_ id: String) -> (phase: String, step: Int)? {
        guard let text = text("processing", id, "progress.yaml") else { return nil }
        let phase = Records.value("phase", in: text) ?? ""
        return (phase, Int(Records.value("step", in: text) ?? "") ?? 0)
    }

    /// Runs a short skipdit command (status, cancel) against this spool's config.
    func command(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try SkipditBinary.run(arguments + ["--config", config.path])
    }

    /// Removes the temporary folder.
    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// Reading the top-level scalars of the YAML records the daemon writes.
enum Records {
    /// The unquoted value of a top-level `key: value` line.
    static func value(_ key: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(key + ": ") {
            var value = String(line.dropFirst(key.count + 2))
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }
}

/// A running `skipdit serve`.
final class DaemonProcess {
    let process = Process()
    let log: URL
    private static let lock = NSLock()
    nonisolated(unsafe) private static var running: [DaemonProcess] = []

    /// Starts `skipdit serve --config …` with extra arguments and environment; stderr goes to `log`.
    /// `user` runs it as that user (through setpriv; the test must run as root).
    init(
        _ spool: TestSpool, arguments: [String] = [], environment: [String: String] = [:], name: String = "daemon",
        user: String? = nil
    ) throws {
        log = spool.root.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(4)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let binary = try SkipditBinary.require()
        let serve = ["serve", "--config", spool.config.path] + arguments
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = SkipditBinary.asUser(user, binary, serve)
        } else {
            process.executableURL = binary
            process.arguments = serve
        }
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        Self.lock.withLock { Self.running.append(self) }
    }

    var pid: Int32 { process.processIdentifier }

    /// Sends a signal.
    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit; nil on timeout.
    func waitForExit(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return process.terminationStatus
    }

    /// SIGTERM, then the exit status (nil when it did not exit within `timeout`).
    @discardableResult
    func stop(timeout: TimeInterval = 10) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        signal(SIGTERM)
        return waitForExit(timeout: timeout)
    }

    /// The log so far.
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Kills every daemon a test left running (tearDown).
    static func killAll() {
        let all = lock.withLock {
            defer { running.removeAll() }
            return running
        }
        for d in all where d.process.isRunning {
            kill(d.process.processIdentifier, SIGKILL)
            d.process.waitUntilExit()
        }
    }
}

/// Polls until `condition` holds; fails the test (with `what`) on timeout.
func waitUntil(_ what: String, timeout: TimeInterval = 60, _ condition: () -> Bool) throws {
    let timeout = timeout * TestTiming.scale
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { throw HarnessError("timed out after \(timeout) s waiting for \(what)") }
        Thread.sleep(forTimeInterval: 0.02)
    }
}

/// Deadlines of the integration tests, stretched where everything runs slower: scripts/test-sanitize
/// sets SKIPDIT_TEST_TIME_SCALE (ThreadSanitizer makes a render about ten times slower).
enum TestTiming {
    static let scale: Double = {
        let value = ProcessInfo.processInfo.environment["SKIPDIT_TEST_TIME_SCALE"].flatMap(Double.init) ?? 1
        return max(1, value)
    }()
}

/// Runs a program to completion: its exit status and its stdout and stderr together.
func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The SHA-256 of a file as sha256sum prints it.
func sha256(_ url: URL) throws -> String {
    try runTool("/usr/bin/sha256sum", [url.path]).output.split(separator: " ").first.map(String.init) ?? ""
}

/// Base class: kills leftover daemons and removes temporary spools.
class DaemonTestCase: XCTestCase {
    private var spools: [TestSpool] = []

    func makeSpool(_ name: String) throws -> TestSpool {
        _ = try SkipditBinary.require()
        let spool = try TestSpool(name)
        spools.append(spool)
        return spool
    }

    override func tearDown() {
        DaemonProcess.killAll()
        if (testRun?.totalFailureCount ?? 0) == 0 {
            for s in spools { s.remove() }
        } else {
            for s in spools { print("kept \(s.root.path) for inspection") }
        }
        spools.removeAll()
        super.tearDown()
    }
}

extension TestSpool {
    /// The final latents (and the posters decoded from them) of jobs `a` and `b` are bit-identical.
    func assertSameRender(_ a: String, _ b: String, seeds: [Int]) throws {
        for seed in seeds {
            let latentsA = try Data(contentsOf: output.appendingPathComponent("\(a)-\(seed).mp4.latents.npy"))
            let latentsB = try Data(contentsOf: output.appendingPathComponent("\(b)-\(seed).mp4.latents.npy"))
            XCTAssertGreaterThan(latentsA.count, 1000)
            XCTAssertTrue(
                latentsA == latentsB, "seed \(seed): the resumed latents differ from the uninterrupted render")
            let posterA = try Data(contentsOf: output.appendingPathComponent("\(a)-\(seed).png"))
            let posterB = try Data(contentsOf: output.appendingPathComponent("\(b)-\(seed).png"))
            XCTAssertTrue(posterA == posterB, "seed \(seed): the posters differ")
        }
    }
}
