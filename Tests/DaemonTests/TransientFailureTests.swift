// TransientFailureTests: which render and submission errors the transient-retry policy
// (`daemon.transient_retries`) tries again and which fail the job at once. The Slurm answers are
// sbatch's own texts for a cluster at a submit limit (slurm/src/common/slurm_errno.c) and for
// errors that do not pass.

import Daemon
import Foundation
import Render
import VideoIO
import XCTest

final class TransientFailureTests: XCTestCase {
    func testDiskAndSharedPathErrorsMayPass() {
        for code in [ENOSPC, EDQUOT, EIO, ESTALE, EACCES] {
            let error = VideoIOError.system(call: "write", code: code, message: "", path: "/out/a.mp4")
            XCTAssertTrue(TransientFailure.isTransient(error), "errno \(code)")
        }
        let full = RenderError.output(path: "/out/a.png", reason: String(cString: strerror(ENOSPC)))
        XCTAssertTrue(TransientFailure.isTransient(full))
    }

    func testErrorsThatWillNotPassFailAtOnce() {
        XCTAssertFalse(
            TransientFailure.isTransient(VideoIOError.system(call: "open", code: EINVAL, message: "", path: "")))
        XCTAssertFalse(TransientFailure.isTransient(RenderError.model(name: "demo", reason: "checkpoint is truncated")))
        XCTAssertFalse(TransientFailure.isTransient(RenderError.unsupported("frames: 17")))
        XCTAssertFalse(TransientFailure.isTransient(RenderError.badState("checkpoint of another job")))
        XCTAssertFalse(TransientFailure.isTransient(RenderError.output(path: "/out", reason: "Invalid argument")))
    }

    func testSlurmAtCapacityIsRetriedAndOtherRefusalsAreNot() {
        let atLimit = [
            "sbatch refused the job: sbatch: error: QOSMaxSubmitJobPerUserLimit\nsbatch: error: Batch job submission "
                + "failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
            "sbatch refused the job: sbatch: error: Batch job submission failed: Resource temporarily unavailable",
            "sbatch refused the job: sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying",
        ]
        for reason in atLimit { XCTAssertTrue(TransientFailure.isSlurmCapacity(reason), reason) }
        let final = [
            "sbatch refused the job: sbatch: error: Batch job submission failed: Invalid partition name specified",
            "sbatch refused the job: sbatch: error: Batch job submission failed: Invalid job array specification",
            "the render failed: Resource temporarily unavailable",  // not a submission
        ]
        for reason in final { XCTAssertFalse(TransientFailure.isSlurmCapacity(reason), reason) }
    }
}
