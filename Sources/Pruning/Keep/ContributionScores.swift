import Foundation
import Numerics
import Models

/// A calibration-free score of a whole FFN neuron j: how much it writes into the residual stream,
/// ‖W_down[:, j]‖₂ · √E[(SiLU(g_j·h)·(u_j·h))²], with gate, up and down together. Gate norm alone
/// (magnitude rows) ignores that with a small gate SiLU(z) ≈ z/2 is nearly linear, so a neuron
/// with a small gate still passes (g·h)(u·h)/2 on; this score keeps that term.
///
/// Two models of the FFN input h:
/// - `prompt`: h is the FFN input of one pass over the data-free prompt (`PromptActivations`),
///   and the expectation is the mean over its tokens of the exact activation.
/// - `weights`: h = s ⊙ z with s the FFN norm's scale and z of unit variance per channel
///   (what RMSNorm aims at), so g·h and u·h are jointly Gaussian with standard deviations
///   ‖s⊙g‖, ‖s⊙u‖ and correlation ρ = cos(s⊙g, s⊙u); E[SiLU(G)²·U²] is then a 1-D integral,
///   computed on a fixed grid. No forward pass at all.
public struct ContributionScores: Sendable {
    /// The input model.
    public enum Proxy: String, Sendable, CaseIterable, Codable {
        /// One pass over the data-free prompt.
        case prompt
        /// The weights alone (Gaussian input scaled by the FFN norm).
        case weights
    }

    let model: Model
    let proxy: Proxy
    let activations: PromptActivations?

    /// Scores for `model` under `proxy` (the prompt's pass runs once, here).
    public init(_ model: Model, proxy: Proxy, activations: PromptActivations? = nil) throws {
        guard model.config.architecture == .llama else {
            throw PruningError("contribution scores need a llama model (SwiGLU FFN); '\(model.name)' is \(model.config.architecture.rawValue)")
        }
        self.model = model
        self.proxy = proxy
        self.activations = proxy == .prompt ? try activations ?? PromptActivations(model) : nil
    }

    /// One score per neuron of block `b`.
    public func scores(block b: Int) throws -> [Double] {
        let down = try model.matrix(.ffnDown, block: b)    // d × n
        var columnNorms = [Double](repeating: 0, count: down.cols)
        for r in 0..<down.rows { for j in 0..<down.cols { let v = Double(down.data[r * down.cols + j]); columnNorms[j] += v * v } }
        let energy: [Double]
        switch proxy {
        case .prompt:
            let a = try activations!.input(.ffnDown, block: b)
            var e = [Double](repeating: 0, count: a.cols)
            for t in 0..<a.rows { for j in 0..<a.cols { let v = Double(a.data[t * a.cols + j]); e[j] += v * v } }
            energy = e.map { $0 / Double(a.rows) }
        case .weights:
            let gate = try model.matrix(.ffnGate, block: b), up = try model.matrix(.ffnUp, block: b)
            let s = model.has(.ffnNorm, block: b) ? try model.matrix(.ffnNorm, block: b).data.map(Double.init)
                                                   : Array(repeating: 1, count: gate.cols)
            energy = (0..<gate.rows).map { j in
                var gg = 0.0, uu = 0.0, gu = 0.0
                for i in 0..<gate.cols {
                    let g = Double(gate.data[j * gate.cols + i]) * s[i], u = Double(up.data[j * up.cols + i]) * s[i]
                    gg += g * g; uu += u * u; gu += g * u
                }
                let sg = gg.squareRoot(), su = uu.squareRoot()
                let rho = sg > 0 && su > 0 ? gu / (sg * su) : 0
                return Self.gaussianEnergy(sigmaGate: sg, sigmaUp: su, rho: rho)
            }
        }
        return zip(energy, columnNorms).map { ($0 * $1).squareRoot() }
    }

    /// E[SiLU(G)²·U²] for G = σ_g z₁, U = σ_u (ρ z₁ + √(1−ρ²) z₂), z independent standard normals:
    /// σ_u²·E_z[SiLU(σ_g z)²·(ρ²z² + 1 − ρ²)], on a grid of 241 points over [−6, 6].
    public static func gaussianEnergy(sigmaGate: Double, sigmaUp: Double, rho: Double) -> Double {
        let steps = 240, lo = -6.0, h = 12.0 / Double(steps)
        var sum = 0.0, mass = 0.0
        for i in 0...steps {
            let z = lo + Double(i) * h
            let w = Foundation.exp(-0.5 * z * z)
            let g = sigmaGate * z
            let silu = g / (1 + Foundation.exp(-g))
            sum += w * silu * silu * (rho * rho * z * z + 1 - rho * rho)
            mass += w
        }
        return sigmaUp * sigmaUp * sum / mass
    }
}
