// The shipped systemd unit and the Slurm executor's drop-in, judged offline by systemd-analyze: the
// unit alone is sandboxed tightly, and the drop-in opens only the network the Slurm client needs
// (issue 15: the README states both exposure levels).

import Foundation
import XCTest

final class SystemdUnitTests: XCTestCase {
    /// `systemd-analyze security --offline` of skipdit.service (with the drop-ins given) in a temporary root:
    /// the overall exposure and the names of the settings it marks as exposed.
    private func analyze(dropIns: [URL]) throws -> (exposure: Double, exposed: Set<String>) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let system = root.appendingPathComponent("etc/systemd/system")
        let dropInFolder = system.appendingPathComponent("skipdit.service.d")
        try FileManager.default.createDirectory(at: dropInFolder, withIntermediateDirectories: true)
        let unit = SkipditBinary.repositoryRoot.appendingPathComponent("systemd/skipdit.service")
        try FileManager.default.copyItem(at: unit, to: system.appendingPathComponent("skipdit.service"))
        for d in dropIns {
            try FileManager.default.copyItem(at: d, to: dropInFolder.appendingPathComponent(d.lastPathComponent))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["security", "--offline=true", "--root=\(root.path)", "--no-pager", "skipdit.service"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let overall = text.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
        let number = overall.split(separator: " ").compactMap { Double($0) }.first
        let exposed = Set(
            text.split(separator: "\n").filter { $0.hasPrefix("✗") }.compactMap {
                $0.dropFirst().split(separator: " ").first.map(String.init)
            })
        return (try XCTUnwrap(number, text), exposed)
    }

    func testTheDropInOpensOnlyTheNetwork() throws {
        let local = try analyze(dropIns: [])
        let slurm = try analyze(
            dropIns: [SkipditBinary.repositoryRoot.appendingPathComponent("systemd/skipdit.service.d/slurm.conf")])
        XCTAssertLessThanOrEqual(local.exposure, 0.5, "the local unit is sandboxed as before")
        XCTAssertLessThanOrEqual(slurm.exposure, 1.5)
        let opened = slurm.exposed.subtracting(local.exposed)
        let network: Set<String> = [
            "PrivateNetwork=", "IPAddressDeny=", "RestrictAddressFamilies=~AF_(INET|INET6)",
            "RestrictAddressFamilies=~AF_NETLINK",
        ]
        XCTAssertTrue(opened.isSubset(of: network), "the drop-in also opened \(opened.subtracting(network))")
        XCTAssertTrue(opened.contains("PrivateNetwork="), "\(opened)")
    }
}
