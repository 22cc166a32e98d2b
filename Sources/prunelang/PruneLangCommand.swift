import ArgumentParser

/// `prunelang`: the one executable. Until the language lands it offers the spectral demo.
@main
struct PruneLangCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prunelang",
        abstract: "Look inside language-model weights and prune them.",
        version: "0.1.0",
        subcommands: [DemoCommand.self])
}
