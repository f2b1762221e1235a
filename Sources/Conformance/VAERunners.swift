// Conformance runners for the "vae" and "vae-temporal" fixture suites (not implemented yet).

struct VAERunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
    }
}

struct VAETemporalRunner: CaseRunner {
    let fixtures: FixtureDirectory
    let options: ConformanceOptions

    func run(case c: ManifestNode, kind: String) throws(ConformanceError) -> [Check] {
        throw .unsupportedCase(name: (try? c["name"].string) ?? c.path, kind: kind)
    }
}
