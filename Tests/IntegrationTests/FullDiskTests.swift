// Full disks and write errors, on real filesystems: a small tmpfs mounted over the output folder or
// the spool (as root), a read-only mount, a folder the daemon's user may not write, and a file-size
// limit (RLIMIT_FSIZE, which needs no privileges). In every case the job fails (output) or waits
// (spool) with a reason naming the path, no partial MP4 or poster is left, the spool's records stay
// intact, and the daemon goes on serving.

import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A tmpfs of a given size mounted on a folder for the length of a test (root only).
final class SmallFilesystem {
    let mountPoint: URL
    private var mounted = false

    /// Mounts; nil when this machine does not allow it (not root, no mount permission).
    init?(at mountPoint: URL, kilobytes: Int, readOnly: Bool = false) {
        self.mountPoint = mountPoint
        guard getuid() == 0 else { return nil }
        try? FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let options = "size=\(kilobytes)k,mode=0777" + (readOnly ? ",ro" : "")
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", mountPoint.path]) == 0 else { return nil }
        mounted = true
    }

    /// Fills the filesystem until `leftKilobytes` remain; returns the filler file.
    @discardableResult
    func fill(leaving leftKilobytes: Int) throws -> URL {
        var stats = statvfs()
        guard statvfs(mountPoint.path, &stats) == 0 else { throw HarnessError("statvfs \(mountPoint.path)") }
        let free = Int(stats.f_bavail) * Int(stats.f_frsize)
        let filler = mountPoint.appendingPathComponent("filler")
        let bytes = max(0, free - leftKilobytes * 1024)
        FileManager.default.createFile(atPath: filler.path, contents: Data(count: bytes))
        return filler
    }

    func unmount() {
        guard mounted else { return }
        _ = Self.run("/bin/umount", ["-l", mountPoint.path])
        mounted = false
    }

    deinit { unmount() }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

final class FullDiskTests: DaemonTestCase {
    private func job(_ seeds: [Int], name: String) -> String {
        TestSpool.job(class: 1, seeds: seeds) + "output: \"\(name)-{seed}.mp4\"\n"
    }

    /// Names under `folder` (recursively) that are temp files or partial outputs.
    private func leftovers(_ folder: URL) -> [String] {
        let names = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String } ?? []
        return names.filter { ($0 as NSString).lastPathComponent.hasPrefix(".") && $0.hasSuffix(".tmp") }
    }

    private func assertNoOutputs(of name: String, in spool: TestSpool, file: StaticString = #filePath, line: UInt = #line)
    {
        let outputs = spool.outputs().filter { $0.hasPrefix(name + "-") }
        XCTAssertEqual(outputs, [], "partial outputs left", file: file, line: line)
        XCTAssertEqual(leftovers(spool.output), [], "temp files left in the output folder", file: file, line: line)
    }

    /// The failed job's record is complete: job file, result with the reason.
    private func failedReason(_ id: String, _ spool: TestSpool) -> String {
        XCTAssertTrue(spool.exists("failed", id, "job.yaml"))
        return Records.value("reason", in: spool.result("failed", id)) ?? ""
    }

    func testAFullOutputFilesystemFailsTheJobNamingThePathAndTheDaemonServesTheNext() throws {
        let spool = try makeSpool("full-output")
        guard let disk = SmallFilesystem(at: spool.output, kilobytes: 64) else {
            throw XCTSkip("tmpfs cannot be mounted here; testFileSizeLimit covers full writes")
        }
        defer { disk.unmount() }
        let filler = try disk.fill(leaving: 4)
        let daemon = try DaemonProcess(spool)
        try spool.submit("full.yaml", job([1, 2], name: "full"))
        try waitUntil("full in failed/") { spool.list("failed") == ["full"] }
        let reason = failedReason("full", spool)
        XCTAssertTrue(reason.contains(spool.output.path), reason)
        XCTAssertTrue(reason.contains("No space left on device"), reason)
        assertNoOutputs(of: "full", in: spool)

        try FileManager.default.removeItem(at: filler)
        try spool.submit("after.yaml", job([3], name: "after"))
        try waitUntil("after in done/") { spool.list("done") == ["after"] }
        XCTAssertEqual(spool.outputs(), ["after-3.mp4", "after-3.png"])
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testAFileSizeLimitFailsTheJobWithEFBIGInsteadOfKillingTheDaemon() throws {
        let spool = try makeSpool("fsize")
        let daemon = try DaemonProcess(spool)
        try waitUntil("the daemon serving") { daemon.logText.contains("watching") }
        // Files of the daemon may grow to 2 KiB (soft limit): the spool's records fit, a video does not.
        XCTAssertEqual(
            SmallFilesystem.run("/usr/bin/prlimit", ["--pid", String(daemon.pid), "--fsize=2048:unlimited"]), 0,
            "prlimit --fsize")
        try spool.submit("big.yaml", job([1], name: "big"))
        try waitUntil("big in failed/") { spool.list("failed") == ["big"] }
        let reason = failedReason("big", spool)
        XCTAssertTrue(reason.contains(spool.output.path), reason)
        XCTAssertTrue(reason.contains("File too large"), reason)
        assertNoOutputs(of: "big", in: spool)

        XCTAssertEqual(
            SmallFilesystem.run("/usr/bin/prlimit", ["--pid", String(daemon.pid), "--fsize=unlimited:unlimited"]), 0)
        try spool.submit("small.yaml", job([2], name: "small"))
        try waitUntil("small in done/") { spool.list("done") == ["small"] }
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testAReadOnlyOutputFolderFailsTheJobNamingThePath() throws {
        let spool = try makeSpool("read-only")
        guard let disk = SmallFilesystem(at: spool.output, kilobytes: 64, readOnly: true) else {
            throw XCTSkip("a read-only tmpfs cannot be mounted here")
        }
        defer { disk.unmount() }
        let daemon = try DaemonProcess(spool)
        try spool.submit("ro.yaml", job([1], name: "ro"))
        try waitUntil("ro in failed/") { spool.list("failed") == ["ro"] }
        let reason = failedReason("ro", spool)
        XCTAssertTrue(reason.contains(spool.output.path), reason)
        XCTAssertTrue(reason.contains("Read-only file system"), reason)
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testAnOutputFolderTheDaemonMayNotWriteFailsTheJobNamingThePath() throws {
        let spool = try makeSpool("denied")
        let locked = spool.output.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        var user: String?
        if getuid() == 0 {
            // Root writes anywhere: run the daemon as nobody, owning the spool but not `locked`.
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path)
            for url in [spool.root, spool.spool.appendingPathComponent("incoming"), spool.output] {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            }
            SmallFilesystem.run("/bin/chown", ["-R", "nobody", spool.spool.path, spool.output.path])
            SmallFilesystem.run("/bin/chown", ["root", locked.path])
            SmallFilesystem.run("/bin/chmod", ["0755", spool.root.path])
            // nobody may not see the checkout (a clone in a 0700 folder): give it copies of the model.
            let models = spool.root.appendingPathComponent("models")
            try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
            let checkpoint = models.appendingPathComponent("ckpt_cond.pt")
            let vae = models.appendingPathComponent("vae")
            try FileManager.default.copyItem(
                at: Fixtures.suite("c2v").appendingPathComponent("ckpt_cond.pt"), to: checkpoint)
            try FileManager.default.copyItem(
                at: Fixtures.suite("vae").appendingPathComponent("model/diffusers_safetensors"), to: vae)
            SmallFilesystem.run("/bin/chmod", ["-R", "a+rX", models.path])
            try spool.writeConfig(models: [TestSpool.tinyModel("tiny", checkpoint: checkpoint.path, vae: vae.path)])
            user = "nobody"
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked.path)
        }
        let daemon = try DaemonProcess(spool, environment: ["HOME": "/tmp"], user: user)
        try spool.submit("denied.yaml", TestSpool.job(class: 1, seeds: [1]) + "output: \"locked/denied-{seed}.mp4\"\n")
        try waitUntil("denied in failed/") { spool.list("failed") == ["denied"] }
        let reason = failedReason("denied", spool)
        XCTAssertTrue(reason.contains(locked.path), reason)
        XCTAssertTrue(reason.contains("Permission denied"), reason)
        XCTAssertEqual(leftovers(locked), [])
        try spool.submit("allowed.yaml", TestSpool.job(class: 1, seeds: [2]) + "output: \"allowed-{seed}.mp4\"\n")
        try waitUntil("allowed in done/") { spool.list("done") == ["allowed"] }
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)
    }

    func testAFullSpoolLosesNothingTheRenderFinishesAndTheJobWaitsUntilItCanBeRecorded() throws {
        let spool = try makeSpool("full-spool")
        guard let disk = SmallFilesystem(at: spool.spool, kilobytes: 256) else {
            throw XCTSkip("tmpfs cannot be mounted here")
        }
        defer { disk.unmount() }
        // Full before the job arrives: the claim fails, leaves nothing, and the file stays queued.
        var filler = try disk.fill(leaving: 0)
        let daemon = try DaemonProcess(spool, arguments: ["--test-step-delay", "0.1"])
        try FileManager.default.removeItem(at: filler)
        try spool.submit("queued.yaml", job([1, 2], name: "queued"))
        filler = try disk.fill(leaving: 0)
        try waitUntil("a refused claim") { daemon.logText.contains("cannot claim") }
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(spool.list("incoming"), ["queued.yaml"])
        let processing = (try? FileManager.default.contentsOfDirectory(atPath: spool.spool.path + "/processing")) ?? []
        XCTAssertEqual(processing, [], "a failed claim left \(processing)")

        // Room for the claim; then full again mid-render: checkpoints and progress fail, the render
        // goes on, and the finished job waits in processing/ until its record can be written.
        try FileManager.default.removeItem(at: filler)
        try waitUntil("queued claimed and denoising") { spool.progress("queued")?.phase.hasPrefix("denoising") ?? false }
        filler = try disk.fill(leaving: 0)
        try waitUntil("both videos written", timeout: 60) { spool.outputs().count == 4 }
        try waitUntil("a refused ending") { daemon.logText.contains("cannot end the job in the spool") }
        XCTAssertEqual(spool.list("processing"), ["queued"])
        XCTAssertEqual(spool.list("done"), [])
        try FileManager.default.removeItem(at: filler)
        try waitUntil("queued in done/", timeout: 30) { spool.list("done") == ["queued"] }
        XCTAssertEqual(Records.value("status", in: spool.result("done", "queued")), "done")
        XCTAssertEqual(leftovers(spool.spool), [])
        XCTAssertEqual(daemon.stop(), 0, daemon.logText)

        // The videos are the ones an untroubled render makes.
        let reference = try makeSpool("full-spool-reference")
        let second = try DaemonProcess(reference)
        try reference.submit("queued.yaml", job([1, 2], name: "queued"))
        try waitUntil("reference done") { reference.list("done") == ["queued"] }
        XCTAssertEqual(second.stop(), 0)
        for name in ["queued-1.mp4", "queued-2.mp4", "queued-1.png", "queued-2.png"] {
            XCTAssertEqual(
                try sha256(spool.output.appendingPathComponent(name)),
                try sha256(reference.output.appendingPathComponent(name)), name)
        }
    }
}
