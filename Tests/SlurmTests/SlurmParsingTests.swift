// The pure parts of the Slurm client: scontrol's one-line records, array specs, states and the
// sbatch argument list built from the executor settings.

import Foundation
import Jobs
import Slurm
import XCTest

final class SlurmParsingTests: XCTestCase {
    func testScontrolRecordsOfAnArray() {
        let output = """
            JobId=41 ArrayJobId=40 ArrayTaskId=1 JobName=skipdit-a b UserId=root(0) JobState=RUNNING Reason=None Restarts=1 ExitCode=0:0 NodeList=node1 Comment=skipdit:a:x
            JobId=40 ArrayJobId=40 ArrayTaskId=2-4,7%2 JobName=skipdit-a JobState=PENDING Reason=JobArrayTaskLimit Restarts=0 ExitCode=0:0 NodeList=(null) Comment=skipdit:a:x

            """
        let records = SlurmJobRecord.parse(output)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0].jobID, 41)
        XCTAssertEqual(records[0].arrayJobID, 40)
        XCTAssertEqual(records[0].name, "skipdit-a b")
        XCTAssertEqual(records[0].state, .running)
        XCTAssertNil(records[0].reason)
        XCTAssertEqual(records[0].restarts, 1)
        XCTAssertEqual(records[0].nodes, "node1")
        XCTAssertEqual(records[0].taskIndices, [1])
        XCTAssertEqual(records[1].taskIndices, [2, 3, 4, 7])
        XCTAssertEqual(records[1].reason, "JobArrayTaskLimit")
        XCTAssertNil(records[1].nodes)
        XCTAssertEqual(records[1].comment, "skipdit:a:x")
    }

    func testStates() {
        XCTAssertEqual(SlurmJobState(slurm: "CANCELLED by 0"), .cancelled)
        XCTAssertEqual(SlurmJobState(slurm: "COMPLETED+"), .completed)
        XCTAssertNil(SlurmJobState(slurm: "SLEEPING"))
        XCTAssertEqual(SlurmJobState.timeout.meaning, .failed)
        XCTAssertEqual(SlurmJobState.outOfMemory.meaning, .failed)
        XCTAssertEqual(SlurmJobState.requeued.meaning, .inFlight)
        XCTAssertEqual(SlurmJobState.completed.meaning, .completed)
    }

    func testArraySpec() {
        XCTAssertEqual(SlurmArrayRequest.arraySpec([1, 2, 3, 5, 8, 7]), "1-3,5,7-8")
        XCTAssertEqual(SlurmArrayRequest.arraySpec([4]), "4")
        XCTAssertEqual(SlurmJobRecord.indices("1-3,5,7-8%4"), [1, 2, 3, 5, 7, 8])
    }

    func testSbatchArguments() throws {
        let config = try DaemonConfig.parse(
            """
            spool: /s
            output: /o
            models: {m: {preset: demo, checkpoint: /m.pt, vae: /v}}
            executor:
              kind: slurm
              partition: debug
              account: render
              time_limit: "02:00:00"
              cpus_per_task: 4
              mem: 16G
              sbatch_args: ["--qos=batch", "--exclusive"]
            """, file: "c.yaml", directory: URL(fileURLWithPath: "/"))
        let request = SlurmArrayRequest(
            name: "skipdit-j", comment: "skipdit:j:t", indices: [1, 2, 3], throttle: 2,
            outputPattern: "/s/processing/j/slurm-%A_%a.out", script: "")
        XCTAssertEqual(
            request.arguments(config.executor),
            [
                "--parsable", "--job-name=skipdit-j", "--comment=skipdit:j:t", "--array=1-3%2",
                "--output=/s/processing/j/slurm-%A_%a.out", "--open-mode=append", "--requeue",
                "--signal=B:USR1@300", "--cpus-per-task=4", "--partition=debug", "--account=render",
                "--time=02:00:00", "--mem=16G", "--qos=batch", "--exclusive",
            ])
    }

    func testScriptQuotesEveryWord() {
        let script = SlurmArrayRequest.script(binary: "/opt/it's/skipdit", arguments: ["task", "a b"], jobID: "j")
        XCTAssertTrue(script.contains("exec '/opt/it'\\''s/skipdit' 'task' 'a b'\n"), script)
        XCTAssertTrue(script.hasPrefix("#!/bin/sh\n"))
    }

    func testUnreachableIsToldFromRefusal() {
        XCTAssertTrue(
            SlurmClient.isUnreachable(
                "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)"))
        XCTAssertFalse(
            SlurmClient.isUnreachable("sbatch: error: Batch job submission failed: Invalid partition name specified"))
        XCTAssertTrue(
            SlurmClient.isUnreachable(
                "sbatch: error: QOSMaxSubmitJobPerUserLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)"
            ))
    }
}
