/// The tensors an architecture needs and the shape each must have under a config: used to check
/// a loaded model (a file whose config no longer matches its shapes is refused with the first
/// mismatch) and by writers and forward passes that rely on the same facts.
public enum ModelShapes {
    /// Every required place of `config` with its expected shape (outermost first).
    public static func expected(_ config: ModelConfig) -> [(TensorPlace, [Int])] {
        let d = config.hiddenSize, v = config.vocabSize
        let hd = config.headDimension
        // The residual stream's width: d, or SliceGPT's sliced width (then with shortcut matrices).
        let s = config.residualWidth
        var out: [(TensorPlace, [Int])] = [(TensorPlace(.tokenEmbedding), [v, s])]
        switch config.architecture {
        case .llama:
            for (b, n) in config.intermediateSizes.enumerated() {
                // Query and key/value widths of this block (head pruning may narrow them).
                let q = config.heads(inBlock: b) * hd, kv = config.kvHeads(inBlock: b) * hd
                out += [
                    (TensorPlace(.attentionNorm, block: b), [s]),
                    (TensorPlace(.attentionQuery, block: b), [q, s]),
                    (TensorPlace(.attentionKey, block: b), [kv, s]),
                    (TensorPlace(.attentionValue, block: b), [kv, s]),
                    (TensorPlace(.attentionOutput, block: b), [s, q]),
                    (TensorPlace(.ffnNorm, block: b), [s]),
                    (TensorPlace(.ffnGate, block: b), [n, s]),
                    (TensorPlace(.ffnUp, block: b), [n, s]),
                    (TensorPlace(.ffnDown, block: b), [s, n]),
                ]
                if config.residualSize != nil {
                    out += [(TensorPlace(.attentionShortcut, block: b), [s, s]), (TensorPlace(.ffnShortcut, block: b), [s, s])]
                }
            }
            out.append((TensorPlace(.outputNorm), [s]))
            if !config.tiedOutputHead { out.append((TensorPlace(.outputHead), [v, s])) }
        case .bert:
            out += [(TensorPlace(.positionEmbedding), [config.contextLength, d]),
                    (TensorPlace(.embeddingNorm), [d]), (TensorPlace(.embeddingNorm, .bias), [d])]
            for (b, n) in config.intermediateSizes.enumerated() {
                let q = config.heads(inBlock: b) * hd
                for role in [TensorRole.attentionQuery, .attentionKey, .attentionValue] {
                    out += [(TensorPlace(role, block: b), [q, d]), (TensorPlace(role, .bias, block: b), [q])]
                }
                out += [(TensorPlace(.attentionOutput, block: b), [d, q]), (TensorPlace(.attentionOutput, .bias, block: b), [d])]
                out += [
                    (TensorPlace(.attentionOutputNorm, block: b), [d]), (TensorPlace(.attentionOutputNorm, .bias, block: b), [d]),
                    (TensorPlace(.ffnUp, block: b), [n, d]), (TensorPlace(.ffnUp, .bias, block: b), [n]),
                    (TensorPlace(.ffnDown, block: b), [d, n]), (TensorPlace(.ffnDown, .bias, block: b), [d]),
                    (TensorPlace(.ffnOutputNorm, block: b), [d]), (TensorPlace(.ffnOutputNorm, .bias, block: b), [d]),
                ]
            }
        }
        return out
    }

    /// Throws `ModelError.inconsistent` naming the first missing tensor, wrong shape, or block
    /// beyond the config's block count.
    public static func check(_ model: Model) throws {
        for (place, shape) in expected(model.config) {
            guard let t = model.tensors[place] else {
                throw ModelError.inconsistent(model: model.name, detail: "has no \(model.describe(place)) tensor, which a \(model.config.architecture.rawValue) model needs")
            }
            let got = t.shape.count == 2 && t.shape[0] == 1 && shape.count == 1 ? [t.shape[1]] : t.shape
            guard got == shape else {
                throw ModelError.inconsistent(model: model.name, detail: "tensor '\(t.name)' has shape \(t.shape) but the config needs \(shape)")
            }
        }
        if let stray = model.tensors.keys.first(where: { ($0.block ?? 0) >= model.config.blockCount }) {
            throw ModelError.inconsistent(model: model.name, detail: "has a tensor in block \(stray.block!) but the config has \(model.config.blockCount) blocks")
        }
    }
}
