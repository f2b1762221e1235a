// skipdit status — not implemented yet.

import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("skipdit status is not implemented yet")
    }
}
