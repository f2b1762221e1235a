// skipdit cancel — not implemented yet.

import ArgumentParser

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("skipdit cancel is not implemented yet")
    }
}
