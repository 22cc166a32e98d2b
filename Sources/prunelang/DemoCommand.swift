import ArgumentParser
import Foundation
import Numerics

/// `prunelang demo`: the spectral demo the README's main job runs until the language lands.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "How dropping FFN rows moves a weight matrix's singular-value spectrum.")

    @Option(help: "Seed for the matrices and the random row draws.")
    var seed: UInt64 = 0

    @Option(help: "Fraction of rows to drop, in [0, 1).")
    var ratio: Double = 0.3

    @Option(help: "Random draws averaged for the random-rows column.")
    var draws: Int = 20

    func validate() throws {
        guard ratio >= 0, ratio < 1 else { throw ValidationError("--ratio must be in [0, 1), got \(ratio)") }
        guard draws >= 1 else { throw ValidationError("--draws must be at least 1, got \(draws)") }
    }

    func run() throws {
        let report = try SpectralDemo(seed: seed, ratio: ratio, draws: draws).run()
        print(report)
    }
}
