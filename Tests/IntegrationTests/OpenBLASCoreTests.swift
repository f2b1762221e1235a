// skipdit picks OpenBLAS's SkylakeX kernels on AVX-512 CPUs, also over an OPENBLAS_CORETYPE that a
// login environment set (Debian's 0.3.21 otherwise runs AVX-512 Zen CPUs at Haswell speed), and
// SKIPDIT_OPENBLAS_AS_SHIPPED=1 leaves the choice to the environment. Checked on the real library in
// a child process, since OpenBLAS reads its core type once, when it loads.

import Foundation
import XCTest

final class OpenBLASCoreTests: XCTestCase {
    /// The "library" of a one-shape `bench gemm` run with `environment` added.
    private func library(_ environment: [String: String]) throws -> String {
        let (status, output) = try SkipditBinary.run(
            [
                "bench", "gemm", "--backend", "openblas", "--shape", "64x64x64", "--runs", "1", "--warmup", "0",
                "--no-shipped", "--json",
            ], environment: environment)
        XCTAssertEqual(status, 0, output)
        // The JSON line (stdout); the notes go to stderr.
        let line = try XCTUnwrap(output.split(separator: "\n").first { $0.hasPrefix("{") }, output)
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
