import Foundation
import Numerics
import Pruning
import Plots

/// A trained PruneNet policy as a language value: shows itself as a summary table with the
/// training curve (text, HTML, SVG figure); members give the curve, per-layer penalties and
/// training settings. Apply it with `prune(m, p, ratio=)`, save it with `save(p, path)`.
public final class PolicyObject: HostObject {
    /// The policy.
    public let policy: PrunePolicy

    /// Wraps `policy`.
    public init(_ policy: PrunePolicy) { self.policy = policy }

    /// "policy".
    public var typeName: String { "policy" }
    /// Members of a policy.
    public var memberNames: [String] {
        ["best", "contribution", "contribution_proxy", "curve", "episodes", "figure", "gamma", "interrupted", "kept_episode",
         "lr", "model", "params", "penalties", "ratio", "reward", "seconds", "seed", "summary", "variant"]
    }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        let i = policy.info
        switch name {
        case "best": return .number(i.curve.map(\.meanPenalty).min() ?? .nan)
        case "contribution": return .number(i.options.contribution)
        case "contribution_proxy": return .string(i.options.contributionProxy.rawValue)
        case "curve": return .vector(i.curve.map(\.meanPenalty))
        case "episodes": return .number(Double(i.curve.count))
        case "figure": return .object(FigureObject(curveFigure()))
        case "gamma": return .number(i.options.gamma)
        case "interrupted": return .bool(i.interrupted)
        case "kept_episode": return .number(Double(i.keptEpisode))
        case "lr": return .number(i.options.learningRate)
        case "model": return .string(i.modelName)
        case "params": return .number(Double(policy.learner.parameterCount))
        case "penalties":
            return i.keptEpisode >= 0 && i.keptEpisode < i.curve.count ? .vector(i.curve[i.keptEpisode].penalties) : .vector([])
        case "ratio": return .number(i.options.ratio)
        case "reward": return .string(i.options.distance.rawValue)
        case "seconds": return .number(i.seconds)
        case "seed": return .number(Double(i.options.seed))
        case "summary": return .object(TableObject(summaryTable()))
        case "variant": return .string(i.options.variant.rawValue)
        default: return nil
        }
    }

    /// The training curve: mean penalty per episode and the best so far.
    public func curveFigure() -> Figure {
        let c = policy.info.curve
        let x = c.map { Double($0.episode + 1) }
        var f = Figure.line(x: x, y: c.map(\.meanPenalty), label: "episode mean",
                            title: "PruneNet training (\(policy.info.options.distance.rawValue.uppercased()) penalty, ratio \(formatNumber(policy.info.options.ratio)))",
                            xLabel: "episode", yLabel: "mean penalty")
        f.addLine(x: x, y: c.map(\.bestSoFar), label: "best so far")
        return f
    }

    /// Settings and outcome of the training, one row each.
    public func summaryTable() -> Table {
        let i = policy.info, o = i.options
        let best = i.curve.map(\.meanPenalty).min()
        let rows: [[Table.Cell]] = [
            [.text("model"), .text("\(i.modelName) (\(i.architecture), \(i.blocks) blocks, FFN \(i.intermediateSize)×\(i.hiddenSize))")],
            [.text("learner"), .text("W_inter \(i.intermediateSize)×\(i.hiddenSize), W_proj 1×\(i.intermediateSize) (\(policy.learner.parameterCount) params)")],
            [.text("trained at ratio"), .text(formatNumber(o.ratio))],
            [.text("variant"), .text(o.variant.rawValue)],
            [.text("reward"), .text(o.contribution > 0
                ? "\(o.distance.rawValue) + \(formatNumber(o.contribution))·contribution (\(o.contributionProxy.rawValue) proxy)"
                : o.distance.rawValue)],
            [.text("γ, lr, seed"), .text("\(formatNumber(o.gamma)), \(formatNumber(o.learningRate)), \(o.seed)")],
            [.text("episodes"), .text("\(i.curve.count) of \(o.episodes)" + (i.interrupted ? " (interrupted)" : ""))],
            [.text("first → best mean penalty"), .text("\(i.curve.first.map { formatShort($0.meanPenalty, digits: 4) } ?? "–") → \(best.map { formatShort($0, digits: 4) } ?? "–")")],
            [.text("kept"), .text(i.keptEpisode >= 0 ? "episode \(i.keptEpisode + 1)" : "initial learner")],
            [.text("time"), .text(String(format: "%.1f s", i.seconds))],
        ]
        return Table(title: "PruneNet policy", headers: ["", ""], rows: rows)
    }

    /// The summary table, then the curve (text plot and SVG).
    public func display() -> MIMEBundle {
        let t = summaryTable(), f = curveFigure()
        return MIMEBundle(text: t.text() + "\n" + f.text(), html: t.html() + f.svg())
    }

    /// One line.
    public var summary: String {
        let i = policy.info
        return "<policy for \(i.modelName): trained at \(formatNumber(i.options.ratio)), \(i.curve.count) episodes, best \(formatShort(i.curve.map(\.meanPenalty).min() ?? .nan, digits: 4))\(i.interrupted ? ", interrupted" : "")>"
    }

    /// Help on policies.
    public var helpText: String? {
        "policy: a trained PruneNet policy learner.\n\nApply it with prune(m, p, ratio=) (any ratio, or a list of per-layer ratios; deterministic=true for top-k), save it with save(p, \"p.safetensors\"), reload it with load_policy(path). Members: " + memberNames.joined(separator: ", ")
    }
}
