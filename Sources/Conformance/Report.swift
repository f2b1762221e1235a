// Results of a conformance run: every comparison made, grouped per case, with the worst
// error-to-tolerance ratio deciding pass/fail.

import Foundation

/// One comparison: a tensor (or one step of it) against its expected value.
public struct Check: Sendable {
    public let label: String
    public let maxError: Double
    public let tolerance: Double
    public var passed: Bool { maxError <= tolerance }
    /// maxError / tolerance (0 when both are 0).
    public var ratio: Double { tolerance > 0 ? maxError / tolerance : (maxError == 0 ? 0 : .infinity) }

    public init(label: String, maxError: Double, tolerance: Double) {
        self.label = label
        self.maxError = maxError.isNaN ? .infinity : maxError
        self.tolerance = tolerance
    }
}

/// All checks of one manifest case.
public struct CaseResult: Sendable {
    public let name: String
    public let kind: String
    public var checks: [Check]
    /// Set when the case could not run at all.
    public var failure: String?

    public var passed: Bool { failure == nil && !checks.isEmpty && checks.allSatisfy(\.passed) }
    /// The check closest to (or furthest past) its tolerance.
    public var worst: Check? { checks.max { $0.ratio < $1.ratio } }

    /// One line: status, name, worst error and its tolerance.
    public var line: String {
        let status = passed ? "PASS" : "FAIL"
        if let failure { return "\(status) \(name) [\(kind)]: \(failure)" }
        guard let w = worst else { return "\(status) \(name) [\(kind)]: no checks" }
        let failing = checks.filter { !$0.passed }.count
        let extra = failing > 0 ? " (\(failing) of \(checks.count) checks over tolerance)" : " (\(checks.count) checks)"
        return String(
            format: "%@ %@ [%@]: max error %.3g %@ tol %.3g at %@, ratio %.3f%@", status, name, kind, w.maxError,
            w.passed ? "<=" : ">", w.tolerance, w.label, w.ratio, extra)
    }
}

public struct ConformanceReport: Sendable {
    public var suite: String
    public var cases: [CaseResult]
    public var passed: Bool { !cases.isEmpty && cases.allSatisfy(\.passed) }
    public var summary: String {
        let ok = cases.filter(\.passed).count
        return "\(suite): \(ok) passed, \(cases.count - ok) failed"
    }
}
