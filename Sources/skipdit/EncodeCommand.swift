// skipdit encode — not implemented yet.

import ArgumentParser

struct EncodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("skipdit encode is not implemented yet")
    }
}
