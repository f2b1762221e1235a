// DependencyTests: `after:` in a job file (ids, duplicates, a job that waits for itself) and the cycle
// search of DependencyGraph that `skipdit validate` and the spool use.

import Foundation
import Jobs
import XCTest

final class DependencyTests: XCTestCase {
    func testAfterListAndSingleID() throws {
        let spec = try JobSpec.parse("version: 1\nmodel: tiny\nafter: [shot-010, shot_2.b]\n", file: "j.yaml")
        XCTAssertEqual(spec.after, ["shot-010", "shot_2.b"])
        XCTAssertEqual(try JobSpec.parse("version: 1\nmodel: tiny\nafter: one\n", file: "j.yaml").after, ["one"])
        XCTAssertEqual(try JobSpec.parse("version: 1\nmodel: tiny\n", file: "j.yaml").after, [])
    }

    func testBadAfterEntriesAreErrorsAtTheirPlace() {
        let d = diagnostics { try JobSpec.parse("version: 1\nmodel: tiny\nafter: [a, ../b, a]\n", file: "j.yaml") }
        assertDiagnostic(d, 3, 12, "'../b' is not a job id")
        assertDiagnostic(d, 3, 18, "'a' is listed twice in 'after'")
    }

    func testAJobThatWaitsForItselfIsACycle() {
        let d = diagnostics { try validate("version: 1\nmodel: tiny\nclass: 1\nafter: [x]\n", file: "jobs/x.yaml") }
        assertDiagnostic(d, 4, 8, "dependency cycle: x -> x")
    }

    func testCyclesAreNamed() {
        let graph = DependencyGraph(after: ["a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []])
        XCTAssertEqual(graph.cycle(through: "a"), ["a", "b", "c", "a"])
        XCTAssertEqual(graph.cycle(through: "b"), ["b", "c", "a", "b"])
        XCTAssertNil(graph.cycle(through: "d"), "d waits for a cycle but is not on it")
        XCTAssertEqual(graph.cycles(), [["a", "b", "c", "a"]])
        XCTAssertEqual(DependencyGraph.text(["a", "b", "a"]), "a -> b -> a")
        XCTAssertEqual(DependencyGraph(after: ["x": ["y"], "y": []]).cycles(), [])
    }
}
