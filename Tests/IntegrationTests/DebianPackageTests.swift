// The release binary runs without the Swift toolchain, and the Debian package (scripts/build-deb)
// holds what a Debian service needs, installs, runs from its installed paths and purges cleanly
// (issue 18). The install test runs as root on the test machine itself and leaves it as it found
// it; it skips where a skipdit package is already installed, so an operator's package is never touched.

import Foundation
import XCTest

final class DebianPackageTests: XCTestCase {
    /// Sanitizer builds link the Swift runtime dynamically on purpose (scripts/test-sanitize).
    private func requireStaticBuild() throws {
        if ProcessInfo.processInfo.environment["SKIPDIT_DYNAMIC_STDLIB"] != nil {
            throw XCTSkip("SKIPDIT_DYNAMIC_STDLIB is set: this build links the Swift runtime dynamically")
        }
    }

    /// The Swift toolchain's root folder (the one holding usr/bin/swiftc).
    private func toolchainRoot() throws -> String {
        let which = try runTool("/usr/bin/env", ["sh", "-c", "command -v swiftc"])
        guard which.status == 0 else { throw XCTSkip("no Swift toolchain on PATH to hide") }
        let swiftc = URL(fileURLWithPath: which.output.trimmingCharacters(in: .whitespacesAndNewlines))
            .resolvingSymlinksInPath()
        return swiftc.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func testTheReleaseBinaryNeedsNoToolchain() throws {
        try requireStaticBuild()
        let binary = try SkipditBinary.require().path
        let toolchain = try toolchainRoot()
        let ldd = try runTool("/usr/bin/ldd", [binary])
        XCTAssertEqual(ldd.status, 0, ldd.output)
        for line in ldd.output.split(separator: "\n") {
            XCTAssertFalse(line.contains(toolchain), "a library from the toolchain: \(line)")
            XCTAssertFalse(
                line.contains("libswift") || line.contains("libFoundation") || line.contains("libdispatch"),
                "the Swift runtime is linked dynamically: \(line)")
        }
        let dynamic = try runTool("/usr/bin/readelf", ["-d", binary])
        for line in dynamic.output.split(separator: "\n") where line.contains("RPATH") || line.contains("RUNPATH") {
            XCTAssertFalse(line.contains(toolchain), "the binary searches the toolchain: \(line)")
        }
        // Run it with the toolchain's folder hidden behind an empty tmpfs (a private mount namespace)
        // and a bare environment: it must start and do real work (read and check the demo job).
        guard getuid() == 0 else { throw XCTSkip("hiding the toolchain needs root (a mount namespace)") }
        let root = SkipditBinary.repositoryRoot.path
        let script = "mount -t tmpfs none \"$1\" && shift && test -z \"$(ls \"$0\")\" && exec \"$@\""
        let hidden = try runTool(
            "/usr/bin/unshare",
            [
                "--mount", "--propagation", "private", "/bin/sh", "-c", script, toolchain, toolchain,
                "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", binary, "validate", "--config",
                "\(root)/etc/skipdit/demo.yaml", "\(root)/etc/skipdit/jobs/demo.yaml",
            ])
        XCTAssertEqual(hidden.status, 0, hidden.output)
        XCTAssertTrue(hidden.output.contains("ok"), hidden.output)
    }

    func testThePackageInstallsRunsAndPurgesCleanly() throws {
        try requireStaticBuild()
        guard getuid() == 0 else { throw XCTSkip("installing a package needs root") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb") else { throw XCTSkip("no dpkg-deb") }
        if try runTool("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "skipdit"]).output.contains("installed") {
            throw XCTSkip("a skipdit package is installed on this machine; not touching it")
        }
        let binary = try SkipditBinary.require()
        let repository = SkipditBinary.repositoryRoot
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("deb-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }

        // Build.
        let build = try runTool(repository.appendingPathComponent("scripts/build-deb").path, [binary.path, work.path])
        XCTAssertEqual(build.status, 0, build.output)
        let deb = try XCTUnwrap(build.output.split(separator: "\n").last.map(String.init), build.output)
        let version = try runTool(binary.path, ["--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(URL(fileURLWithPath: deb).lastPathComponent, "skipdit_\(version)_amd64.deb")

        // Metadata: the control fields, the exact runtime packages, the conffiles.
        let field = { (name: String) throws -> String in
            try runTool("/usr/bin/dpkg-deb", ["-f", deb, name]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(try field("Package"), "skipdit")
        XCTAssertEqual(try field("Version"), version)
        XCTAssertEqual(try field("Architecture"), "amd64")
        let depends = try field("Depends").split(separator: ",").map {
            String($0.trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        }
        for runtime in [
            "libavcodec", "libavformat", "libswscale", "libyaml", "libdnnl", "libopenblas0", "libsentencepiece",
            "adduser",
        ] {
            XCTAssertTrue(depends.contains { $0.hasPrefix(runtime) }, "Depends lacks \(runtime): \(depends)")
        }
        for package in depends {
            let known = try runTool("/usr/bin/apt-cache", ["show", "--no-all-versions", package])
            XCTAssertEqual(known.status, 0, "Depends names \(package), which is no Debian package")
        }
        let conffiles = try runTool("/usr/bin/dpkg-deb", ["-I", deb, "conffiles"]).output
        XCTAssertTrue(conffiles.contains("/etc/skipdit/skipdit.yaml"), conffiles)

        // Contents: every path the package must hold.
        let listing = try runTool("/usr/bin/dpkg-deb", ["-c", deb])
        XCTAssertEqual(listing.status, 0, listing.output)
        let paths = Set(
            listing.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) })
        let exampleJobs = try FileManager.default.contentsOfDirectory(
            atPath: repository.appendingPathComponent("etc/skipdit/jobs").path
        ).filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("demo") }
        XCTAssertFalse(exampleJobs.isEmpty)
        let expected =
            [
                "./usr/bin/skipdit", "./usr/lib/systemd/system/skipdit.service", "./etc/skipdit/skipdit.yaml",
                "./usr/share/man/man1/skipdit.1.gz", "./usr/share/bash-completion/completions/skipdit",
                "./usr/share/zsh/vendor-completions/_skipdit", "./usr/share/fish/vendor_completions.d/skipdit.fish",
                "./usr/share/doc/skipdit/copyright", "./usr/share/doc/skipdit/README.md.gz",
                "./usr/share/doc/skipdit/NOTICE", "./usr/share/doc/skipdit/changelog.gz",
            ] + exampleJobs.map { "./etc/skipdit/jobs/\($0)" }
        for path in expected { XCTAssertTrue(paths.contains(path), "the package lacks \(path)") }

        // lintian: no errors or warnings (the overrides in packaging/deb/lintian-overrides say why).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian") {
            let lintian = try runTool("/usr/bin/lintian", ["--fail-on", "error,warning", deb])
            XCTAssertEqual(lintian.status, 0, lintian.output)
        }

        // Install into this machine; remember what must survive the purge.
        let spool = URL(fileURLWithPath: "/var/spool/skipdit"), videos = URL(fileURLWithPath: "/var/lib/skipdit/videos")
        let install = try runTool("/usr/bin/dpkg", ["-i", deb])
        var installed = install.status == 0
        defer { if installed { _ = try? runTool("/usr/bin/dpkg", ["--purge", "skipdit"]) } }
        XCTAssertEqual(install.status, 0, install.output)
        XCTAssertEqual(try runTool("/usr/bin/getent", ["passwd", "skipdit"]).status, 0, "no skipdit user")
        for folder in ["incoming", "processing", "done", "failed"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: spool.appendingPathComponent(folder).path)
            XCTAssertEqual(attributes[.ownerAccountName] as? String, "skipdit", folder)
            XCTAssertEqual((attributes[.posixPermissions] as? Int).map { $0 & 0o777 }, 0o770, folder)
        }
        XCTAssertNotNil(
            try? FileManager.default.destinationOfSymbolicLink(
                atPath: "/etc/systemd/system/multi-user.target.wants/skipdit.service"),
            "the unit is not enabled")

        // Run from the installed paths.
        let installedVersion = try runTool("/usr/bin/skipdit", ["--version"])
        XCTAssertEqual(installedVersion.output.trimmingCharacters(in: .whitespacesAndNewlines), version)
        let jobs = exampleJobs.map { "/etc/skipdit/jobs/\($0)" }
        let shipped = try runTool("/usr/bin/skipdit", ["validate"] + jobs)  // the installed configuration
        XCTAssertEqual(shipped.status, 1, "the shipped configuration names models the package does not hold")
        XCTAssertTrue(shipped.output.contains("/etc/skipdit/skipdit.yaml:"), shipped.output)
        XCTAssertTrue(shipped.output.contains("does not exist"), shipped.output)
        let demo = try runTool(
            "/usr/bin/skipdit",
            [
                "validate", "--config", repository.appendingPathComponent("etc/skipdit/demo.yaml").path,
                repository.appendingPathComponent("etc/skipdit/jobs/demo.yaml").path,
            ])
        XCTAssertEqual(demo.status, 0, demo.output)
        let completion = try runTool("/bin/bash", ["-n", "/usr/share/bash-completion/completions/skipdit"])
        XCTAssertEqual(completion.status, 0, completion.output)
        let manual = try runTool("/usr/bin/env", ["sh", "-c", "zcat /usr/share/man/man1/skipdit.1.gz"])
        XCTAssertTrue(manual.output.contains(".Nm skipdit") && manual.output.contains("serve"), manual.output)

        // Data that must survive a purge: a finished job and a video.
        let marker = "purge-test-\(UUID().uuidString.prefix(8))"
        let job = spool.appendingPathComponent("done/\(marker)"), video = videos.appendingPathComponent("\(marker).mp4")
        try FileManager.default.createDirectory(at: job, withIntermediateDirectories: true)
        try Data("version: 1\n".utf8).write(to: job.appendingPathComponent("job.yaml"))
        try Data([0]).write(to: video)
        defer {
            try? FileManager.default.removeItem(at: job)
            try? FileManager.default.removeItem(at: video)
        }

        let purge = try runTool("/usr/bin/dpkg", ["--purge", "skipdit"])
        XCTAssertEqual(purge.status, 0, purge.output)
        installed = purge.status != 0
        XCTAssertFalse(
            try runTool("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "skipdit"]).output.contains("installed"))
        for path in paths where path.count > 2 {
            let absolute = String(path.dropFirst())
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder) else { continue }
            XCTAssertTrue(
                isFolder.boolValue && !absolute.contains("skipdit"), "left after purge: \(absolute)")
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "/etc/systemd/system/multi-user.target.wants/skipdit.service"))
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: job.appendingPathComponent("job.yaml").path), "purge lost a job")
        XCTAssertTrue(FileManager.default.fileExists(atPath: video.path), "purge lost a video")
    }
}
