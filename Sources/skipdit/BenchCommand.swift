// skipdit bench — not implemented yet.

import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("skipdit bench is not implemented yet")
    }
}
