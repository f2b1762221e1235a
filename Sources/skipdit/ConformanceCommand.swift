// skipdit conformance — not implemented yet.

import ArgumentParser

struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conformance", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("skipdit conformance is not implemented yet")
    }
}
