// skipdit picks OpenBLAS's SkylakeX kernels on AVX-512 CPUs, also over an OPENBLAS_CORETYPE that a
// login environment set (Debian's 0.3.21 otherwise runs AVX-512 Zen CPUs at Haswell speed), and
// SKIPDIT_OPENBLAS_AS_SHIPPED=1 leaves the choice to the environment. Checked on the real library in
// a child process, since OpenBLAS reads its core type once, when it loads.

import Foundation
import XCTest

final class OpenBLASCoreTests: XCTestCase {
    /// The "library" of a one-shape `bench gemm` run with `environment` added.
    private func library(_ environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = try SkipditBinary.require()
        process.arguments = [
            "bench", "gemm", "--backend", "openblas", "--shape", "64x64x64", "--runs", "1", "--warmup", "0",
            "--no-shipped", "--json",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let line = try XCTUnwrap(String(decoding: data, as: UTF8.self).split(separator: "\n").first)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return try XCTUnwrap(object["library"] as? String)
    }

    private var hasAVX512: Bool {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return cpuinfo.split(separator: "\n").contains {
            $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512f")
        }
    }

    func testSkylakeXOnAVX512EvenOverTheEnvironmentsChoice() throws {
        let forced = try library(["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(forced, hasAVX512 ? "OpenBLAS SkylakeX" : "OpenBLAS Haswell")
    }

    func testAsShippedKeepsTheEnvironmentsChoice() throws {
        let kept = try library(["OPENBLAS_CORETYPE": "Haswell", "SKIPDIT_OPENBLAS_AS_SHIPPED": "1"])
        XCTAssertEqual(kept, "OpenBLAS Haswell")
    }
}
