import ArgumentParser
import Foundation
import PruneLang
import REPL

/// `prunelang`: the one executable. With no arguments, the REPL; `-e CODE` runs code and prints
/// the value of its last expression; `prunelang run FILE` runs a script; `demo` shows spectra.
@main
struct PruneLangCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prunelang",
        abstract: "Look inside language-model weights and prune them.",
        version: "0.1.0",
        subcommands: [RunCommand.self, CellsCommand.self, DemoCommand.self, KernelCommand.self, InstallKernelCommand.self])

    /// Code to run instead of starting the REPL.
    @Option(name: .customShort("e"), help: "Run CODE and print the value of its last expression (a number in full precision).")
    var code: String?

    func run() throws {
        if let code {
            let status = ScriptRunner.run(cells: [(code, 1)], name: "<-e>", showAll: true, fullNumbers: true)
            throw ExitCode(status)
        }
        throw ExitCode(REPL().run())
    }
}
