// OpenMP's wait policy for the process. libgomp (used by oneDNN, and loaded by FFmpeg's libsoxr
// before main) reads OMP_WAIT_POLICY once, when it loads. Its default lets idle threads spin
// between parallel regions, which on 2 cores starves the kernels that run between oneDNN calls
// (a tiny render took 4.4 s instead of 0.5 s on a busy machine). The executable therefore
// re-executes itself once with OMP_WAIT_POLICY=PASSIVE unless the user chose a policy.

import Foundation

public enum OpenMPWaitPolicy {
    /// Set on the re-executed process so it never loops.
    static let marker = "SKIPDIT_OMP_POLICY_SET"

    /// Re-executes the current program with OMP_WAIT_POLICY=PASSIVE when neither
    /// OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set. Returns (doing nothing) otherwise or if exec fails.
    public static func ensurePassive() {
        let env = ProcessInfo.processInfo.environment
        guard env["OMP_WAIT_POLICY"] == nil, env["GOMP_SPINCOUNT"] == nil, env[marker] == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        setenv(marker, "1", 1)
        let arguments = CommandLine.arguments
        var cArguments = arguments.map { strdup($0) }
        cArguments.append(nil)
        execv("/proc/self/exe", &cArguments)
        // exec failed: carry on with the active policy.
        for p in cArguments { free(p) }
    }
}
