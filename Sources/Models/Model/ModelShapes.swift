/// The tensors an architecture needs and the shape each must have under a config: used to check
/// a loaded model (a file whose config no longer matches its shapes is refused with the first
/// mismatch) and by writers and forward passes that rely on the same facts.
public enum ModelShapes {
    /// Every required place of `config` with its expected shape (outermost first).
    public static func expected(_ config: ModelConfig) -> [(TensorPlace, [Int])] {
        let d = config.hiddenSize, v = config.vocabSize
        let kv = config.kvHeads * config.headDimension
        var out: [(TensorPlace, [Int])] = [(TensorPlace(.tokenEmbedding), [v, d])]
        switch config.architecture {
        case .llama:
            for (b, n) in config.intermediateSizes.enumerated() {
                out += [
                    (TensorPlace(.attentionNorm, block: b), [d]),
                    (TensorPlace(.attentionQuery, block: b), [d, d]),
                    (TensorPlace(.attentionKey, block: b), [kv, d]),
                    (TensorPlace(.attentionValue, block: b), [kv, d]),
                    (TensorPlace(.attentionOutput, block: b), [d, d]),
                    (TensorPlace(.ffnNorm, block: b), [d]),
                    (TensorPlace(.ffnGate, block: b), [n, d]),
                    (TensorPlace(.ffnUp, block: b), [n, d]),
                    (TensorPlace(.ffnDown, block: b), [d, n]),
                ]
            }
            out.append((TensorPlace(.outputNorm), [d]))
            if !config.tiedOutputHead { out.append((TensorPlace(.outputHead), [v, d])) }
        case .bert:
            out += [(TensorPlace(.positionEmbedding), [config.contextLength, d]),
                    (TensorPlace(.embeddingNorm), [d]), (TensorPlace(.embeddingNorm, .bias), [d])]
            for (b, n) in config.intermediateSizes.enumerated() {
                for role in [TensorRole.attentionQuery, .attentionKey, .attentionValue, .attentionOutput] {
                    out += [(TensorPlace(role, block: b), [d, d]), (TensorPlace(role, .bias, block: b), [d])]
                }
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
