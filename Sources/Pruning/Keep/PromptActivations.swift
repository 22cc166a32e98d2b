import Foundation
import Numerics
import Models

/// The activations of one forward pass over a fixed, data-free prompt: the input of every group
/// of linear layers in every block (q/k/v, o, gate/up, down), kept whole (a prompt is a few dozen
/// tokens). `super_weights`, the "contribution-rows" score and OWL's activation form read it; no
/// calibration data is drawn.
public struct PromptActivations: Sendable {
    /// The prompt every data-free statistic uses (no dataset; the same text for every model).
    public static let prompt = "Apple Inc. is a worldwide tech company. The library opens at nine, and the river is calm today."

    /// The prompt's tokens.
    public let tokens: [Int32]
    /// The input of each site (rows = tokens, row-major).
    public let inputs: [Calibration.Site: Matrix]

    /// One pass of `model` (llama) over `tokens` (the prompt in the model's own tokenizer when nil).
    public init(_ model: Model, tokens: [Int32]? = nil) throws {
        guard model.config.architecture == .llama else {
            throw PruningError("the prompt's activations need a llama model; '\(model.name)' is \(model.config.architecture.rawValue)")
        }
        let ids = try tokens ?? BPETokenizer(model: model).encode(Self.prompt)
        guard !ids.isEmpty else { throw PruningError("the prompt has no tokens") }
        let box = SiteBox()
        var forward = LlamaForward(weights: try LlamaWeights(model))
        forward.observer = { event in box.observe(event) }
        var cache = forward.makeCache(capacity: ids.count)
        _ = try forward.forward(ids, cache: &cache)
        self.tokens = ids
        self.inputs = box.inputs
    }

    /// The input of the linears at `role` (`.attentionQuery`, `.attentionOutput`, `.ffnUp`, `.ffnDown`) in block `b`.
    public func input(_ role: TensorRole, block b: Int) throws -> Matrix {
        guard let m = inputs[Calibration.Site(block: b, role: role)] else {
            throw PruningError("no activations captured for block \(b) \(role.rawValue)")
        }
        return m
    }

    /// Σ over tokens of x_j² for the input of the linears at `role` in block `b` (Wanda's ‖X_j‖²).
    public func squaredNorms(_ role: TensorRole, block b: Int) throws -> [Double] {
        let x = try input(role, block: b)
        var s = [Double](repeating: 0, count: x.cols)
        for r in 0..<x.rows { for j in 0..<x.cols { let v = Double(x.data[r * x.cols + j]); s[j] += v * v } }
        return s
    }
}

/// Collects the linear-layer inputs of one pass (one pass at a time; the lock only guards surprises).
final class SiteBox: @unchecked Sendable {
    var inputs = [Calibration.Site: Matrix]()
    let lock = NSLock()

    func observe(_ event: ForwardEvent) {
        guard case let .linearInput(block, role, input, rows) = event, rows > 0 else { return }
        lock.lock(); defer { lock.unlock() }
        inputs[Calibration.Site(block: block, role: role)] = try? Matrix(rows: rows, cols: input.count / rows, data: input)
    }
}
