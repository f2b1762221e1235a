// skipdit render — not implemented yet.

import ArgumentParser

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Not implemented yet.")

    func run() async throws {
        throw ValidationError("skipdit render is not implemented yet")
    }
}
