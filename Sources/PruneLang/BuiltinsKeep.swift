import Foundation
import Numerics
import Models
import Pruning
import Plots

/// What to keep (issue 24): `super_weights` (massive activations and the super weights they
/// point at), `zero_weights` (the experiment of removing them), `row_norms`, and `prune(m, scores=fn(block) {...})`, the row pruning by a score
/// written in the language. The work is Pruning's (`SuperWeights`, `RowPruners`); this file
/// only turns values into arguments and back.
extension BuiltinRegistry {
    func registerWhatToKeep() {
        register(Builtin(
            name: "super_weights", params: [.required("model", "model", "a llama model"),
                                            .optional("top", "number", default: .number(1), "neurons per block, largest peak first"),
                                            .optional("plot", "bool", default: .bool(false), "return the figure of massive activation by block instead of the table")],
            returns: "table|figure", category: "pruning",
            doc: "Massive activations and super weights (Yu et al. 2024), from one forward pass over a fixed data-free prompt (`\(PromptActivations.prompt)`). In each block, the FFN neurons whose activation at the down projection's input peaks highest (`value`, at prompt token `token`), the hidden channel the down projection writes most at that token (`channel`, with the whole projection's output there, `output`), and the super weight candidate W_down[channel, neuron] (`weight`). Beside them, what the weights alone show: the neuron's gate-row norm rank (`gate_rank`, 0 = smallest, the first \"magnitude-rows\" removes) and the block's largest |W_down| entry (`max_w` at `max_w_neuron`, `max_w_channel`, with its neuron's gate rank). The table goes to `prune(..., protect=)` as it is. `plot=true` gives the figure of the peak |activation| and |output| by block (log scale).",
            example: "m = load(\"smollm2-135m\")\nsw = super_weights(m)\nsw") { a in
                let m = try a.causalModel("model", for: "super_weights")
                let top = try a.int("top", 1...m.model.config.intermediateSizes.min()!)
                let spikes: [SuperWeights.Spike]
                do {
                    let acts = try PromptActivations(m.model, tokens: try m.tokenizer().encode(PromptActivations.prompt))
                    spikes = try SuperWeights.find(m.model, top: top, activations: acts)
                } catch let e as PruningError { throw a.fail(e.message) }
                if try a.bool("plot") {
                    let first = spikes.filter { s in !spikes.contains { $0.block == s.block && abs($0.activation) > abs(s.activation) } }
                    let x = first.map { Double($0.block) }
                    return .object(FigureObject(Figure(title: "massive activations of \(m.model.name) by block (data-free prompt)", xLabel: "block",
                                                       yLabel: "peak |value|", yScale: .log10,
                                                       series: [.line(x: x, y: first.map { abs($0.activation) }, label: "down input (neuron)"),
                                                                .line(x: x, y: first.map { abs($0.output) }, label: "down output (channel)")])))
                }
                let rows: [[Table.Cell]] = spikes.map { s in
                    [.integer(s.block), .integer(s.neuron), .integer(s.channel), .number(s.activation), .integer(s.token), .number(s.output),
                     .number(s.weight), .integer(s.gateRank), .integer(s.largestWeightNeuron), .integer(s.largestWeightChannel),
                     .number(s.largestWeight), .integer(s.largestWeightGateRank)]
                }
                return .object(TableObject(Table(title: "super weights of \(m.model.name) (one pass over a data-free prompt)",
                                                 headers: ["block", "neuron", "channel", "value", "token", "output", "weight", "gate_rank",
                                                           "max_w_neuron", "max_w_channel", "max_w", "max_w_gate_rank"], rows: rows)))
            })
        register(Builtin(
            name: "zero_weights", params: [.required("model", "model", "a llama model"),
                                           .required("sites", "table|list", "the table of super_weights(m) (W_down[channel, neuron] of each row's block), or a list of [block, row, column] triples"),
                                           .optional("role", "string", default: .string("down"), "the projection the triples index: q k v o gate up down")],
            returns: "model", category: "pruning",
            doc: "A copy of `model` with single weights set to zero: the super-weight experiment (Yu et al. 2024: removing one weight of a down projection can wreck a model). Given the table of `super_weights(m)`, it zeroes W_down[channel, neuron] in each row's block; given [block, row, column] triples, it zeroes those entries of the `role` projection (rows are outputs, columns inputs: for down, row = hidden channel, column = FFN neuron). Only the matrices touched are copied. Compare `ppl` before and after.",
            example: "m = load(\"smollm2-135m\")\nsw = super_weights(m)\nm2 = zero_weights(m, [[11, 507, 1229]])\nm2") { a in
                let m = try a.causalModel("model", for: "zero_weights")
                let sites: [WeightZeroing.Site]
                var role = TensorRole.ffnDown
                switch a.value("sites") {
                case .object(let o as TableObject):
                    if a.given("role") { throw a.fail(argument: "role", "a super_weights table names down-projection weights; role= applies to [block, row, column] triples") }
                    let headers = o.table.columns.map(\.header)
                    guard let bc = headers.firstIndex(of: "block"), let cc = headers.firstIndex(of: "channel"), let nc = headers.firstIndex(of: "neuron") else {
                        throw a.fail(argument: "sites", "the table needs block, channel and neuron columns (as super_weights gives); it has \(headers.joined(separator: ", "))")
                    }
                    sites = try o.table.rows.enumerated().map { k, row in
                        func integer(_ c: Int) -> Int? {
                            guard c < row.count else { return nil }
                            switch row[c] { case .integer(let i): return i; case .number(let x): return exactInt(x); default: return nil }
                        }
                        guard let b = integer(bc), let ch = integer(cc), let n = integer(nc) else {
                            throw a.fail(argument: "sites", "table row \(k) has no integer block, channel and neuron")
                        }
                        return WeightZeroing.Site(block: b, row: ch, column: n)
                    }
                case .list(let items):
                    let name = try a.choice("role", ["q", "k", "v", "o", "gate", "up", "down"])
                    role = [("q", TensorRole.attentionQuery), ("k", .attentionKey), ("v", .attentionValue), ("o", .attentionOutput),
                            ("gate", .ffnGate), ("up", .ffnUp), ("down", .ffnDown)].first { $0.0 == name }!.1
                    sites = try items.enumerated().map { k, item in
                        guard case .list(let t) = item, t.count == 3, case .number(let b) = t[0], case .number(let r) = t[1], case .number(let c) = t[2],
                              let bi = exactInt(b), let ri = exactInt(r), let ci = exactInt(c) else {
                            throw a.fail(argument: "sites", "entry \(k) must be three integers [block, row, column], got \(Render.inline(item, depth: 1))")
                        }
                        return WeightZeroing.Site(block: bi, row: ri, column: ci)
                    }
                default:
                    throw a.typeError("sites", expected: "the table of super_weights(m) or a list of [block, row, column] triples")
                }
                guard !sites.isEmpty else { throw a.fail(argument: "sites", "no weights given") }
                do {
                    return .object(ModelObject(try WeightZeroing.zeroing(m.model, sites: sites, role: role)))
                } catch let e as PruningError { throw a.fail(argument: "sites", e.message) }
            })
        register(Builtin(
            name: "row_norms", params: [.required("W", "matrix")], returns: "vector", category: "pruning",
            doc: "The L2 norm of each row of W, summed in double precision: the score \"magnitude-rows\" keeps the largest of (of the gate rows, for llama).",
            example: "row_norms([[3, 4], [1, 0]])") { a in
                .vector(RowPruners.rowNorms(try a.matrix("W")))
            })
    }

    /// `prune(m, scores=fn(block) {...}, ratio=)`: each block's FFN neurons ranked by the user's
    /// score (one number per neuron), the lowest removed; protect= and ratios= apply.
    static func pruneByScores(_ m: ModelObject, _ a: Arguments, request: PruneRequest) throws -> Value {
        if a.has("method") { throw a.fail(argument: "method", "give a method or scores=, not both") }
        let f = try a.callable("scores")
        var request = request
        var written = PruneMethods.sharedOptions.filter { a.given($0.name) }.map { (name: $0.name, value: a.value($0.name), span: a.span($0.name)) }
        written += a.extraKeywords
        for (name, value, span) in written.sorted(by: { $0.span.start < $1.span.start }) {
            guard name == "protect" || name == "ratios", let option = PruneMethods.option(named: name) else {
                throw LangError(.value, "prune: scores= takes the keywords protect and ratios; got \(name)", span)
            }
            let v = try optionValue(name, value, span: span, a)
            do { try option.store(v, in: &request) } catch let e as PruningError { throw located(e, a, value: value) }
        }
        let model = m.model
        let span = a.span("scores")
        do {
            _ = try request.blockRatios(model.blockCount)
            let label = PruneMethod.ratioLabel(request) + (request.layerRatios.map { "-" + $0.rawValue } ?? "")
            request.alignKept = !(try a.bool("exact"))
            var resolved = request
            resolved.ratios = try PruneMethods.removedRatios(model, request: request, prunesNeurons: true)
            let ratios = try resolved.blockRatios(model.blockCount)
            var out = try RowPruners.prune(model, scores: { b in
                let v = try a.interpreter.call(f, [.object(LayerObject(model, index: b))], span: span)
                let xs: [Double]?
                do { xs = try v.asNumbers(flattenMatrix: false, limit: a.interpreter.limits.maxElements) } catch let e as LimitError {
                    throw a.fail(argument: "scores", "scores for block \(b): \(e.message)")
                }
                guard let xs else { throw a.fail(argument: "scores", "scores must return numbers (a vector or list) for each block; block \(b) gave \(v.typeName)") }
                return xs
            }, ratios: ratios, protected: request.protected, progress: a.reporter())
            out.name = "\(model.name)-scores-\(label)"
            if let note = alignmentNote(model, out, request) { a.interpreter.noteOnce(note) }
            return .object(ModelObject(out))
        } catch let e as PruningError {
            throw located(e, a)
        }
    }

    /// A `protect=` value as neurons by block: a list of [block, neuron] pairs (lists of two
    /// integers), or a table with block and neuron columns (as `super_weights` gives).
    static func neurons(_ name: String, _ value: Value, span: Span, _ a: Arguments) throws -> [Int: [Int]] {
        func bad(_ message: String) -> Error { LangError(.value, "\(a.builtin.name): \(message)", span) }
        var out = [Int: [Int]]()
        func add(_ b: Double, _ n: Double, at k: Int) throws {
            guard let bi = exactInt(b), let ni = exactInt(n), bi >= 0, ni >= 0 else {
                throw bad("\(name) entry \(k) must be two non-negative integers [block, neuron], got [\(formatNumber(b)), \(formatNumber(n))]")
            }
            if !(out[bi]?.contains(ni) ?? false) { out[bi, default: []].append(ni) }
        }
        switch value {
        case .list(let items):
            for (k, item) in items.enumerated() {
                guard case .list(let pair) = item, pair.count == 2, case .number(let b) = pair[0], case .number(let n) = pair[1] else {
                    throw bad("\(name) must be a list of [block, neuron] pairs; entry \(k) is \(item.typeName)")
                }
                try add(b, n, at: k)
            }
        case .object(let o as TableObject):
            let headers = o.table.columns.map(\.header)
            guard let bc = headers.firstIndex(of: "block"), let nc = headers.firstIndex(of: "neuron") else {
                throw bad("\(name): the table needs block and neuron columns (as super_weights gives); it has \(headers.joined(separator: ", "))")
            }
            func number(_ c: Table.Cell) -> Double? {
                switch c { case .integer(let i): return Double(i); case .number(let x): return x; default: return nil }
            }
            for (k, row) in o.table.rows.enumerated() {
                guard bc < row.count, nc < row.count, let b = number(row[bc]), let n = number(row[nc]) else {
                    throw bad("\(name): table row \(k) has no numeric block and neuron")
                }
                try add(b, n, at: k)
            }
        default:
            throw LangError(.type, "\(a.builtin.name): argument \(name) must be a list of [block, neuron] pairs or a table with block and neuron columns, got \(value.typeName)", span)
        }
        return out
    }
}
