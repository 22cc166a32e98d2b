/// Reading and writing the hyper-parameters that GGUF keeps as `{arch}.*` metadata keys.
extension ModelConfig {
    /// The config of a GGUF model from its `general.architecture` and `{arch}.*` keys
    /// (`llama` or `bert`); `tensors` supplies what the keys may leave out (vocabulary size,
    /// tied output head). Throws `ModelConfigError` naming the missing or wrong key.
    public static func fromGGUF(_ file: GGUFFile) throws -> ModelConfig {
        guard let arch = file.architecture else {
            throw ModelConfigError(field: GGUFKey.architecture, message: "is missing")
        }
        typealias Key = GGUFKey.Architecture
        func value(_ key: Key) -> GGUFValue? { file[key.key(arch)] }
        func int(_ key: Key) throws -> Int {
            guard let v = value(key)?.int else {
                throw ModelConfigError(field: key.key(arch), message: "is missing or not an integer")
            }
            return v
        }
        /// A per-layer integer key stored as one number or as one number per layer.
        func perLayer(_ key: Key, layers: Int) throws -> [Int] {
            if let v = value(key)?.int { return Array(repeating: v, count: layers) }
            if let a = value(key)?.array?.ints {
                guard a.count == layers else {
                    throw ModelConfigError(field: key.key(arch), message: "has \(a.count) entries for \(layers) layers")
                }
                return a
            }
            throw ModelConfigError(field: key.key(arch), message: "is missing or not an integer (or per-layer array)")
        }
        let layers = try int(.blockCount)
        let widths = try perLayer(.feedForwardLength, layers: layers)
        let hidden = try int(.embeddingLength)
        // Head counts: one number, or one per layer (a head-pruned model, with key_length giving
        // the head dimension, as llama.cpp reads them).
        let headList = try perLayer(.headCount, layers: layers)
        let kvHeadList = value(.headCountKV) == nil ? headList : try perLayer(.headCountKV, layers: layers)
        var heads = headList.first ?? 0
        if let keyLength = value(.keyLength)?.int, keyLength > 0 {
            guard hidden % keyLength == 0 else {
                throw ModelConfigError(field: Key.keyLength.key(arch), message: "\(keyLength) does not divide the embedding length \(hidden)")
            }
            heads = hidden / keyLength
        }
        let vocab = file[GGUFKey.tokens]?.array?.count
            ?? file.tensor(named: "token_embd.weight")?.rows ?? 0
        var config: ModelConfig
        switch arch {
        case "llama", "deci":
            config = ModelConfig(
                architecture: .llama, hiddenSize: hidden, intermediateSizes: widths, heads: heads,
                kvHeads: kvHeadList.max() ?? heads, vocabSize: vocab,
                contextLength: (try? int(.contextLength)) ?? 2048,
                normEpsilon: value(.layerNormRMSEpsilon)?.double ?? 1e-5,
                ropeBase: value(.ropeFreqBase)?.double ?? 10_000,
                ropeDimensions: value(.ropeDimensionCount)?.int,
                tiedOutputHead: file.tensor(named: "output.weight") == nil, activation: .swiglu)
        case "bert":
            config = ModelConfig(
                architecture: .bert, hiddenSize: hidden, intermediateSizes: widths, heads: heads,
                kvHeads: heads, vocabSize: vocab, contextLength: (try? int(.contextLength)) ?? 512,
                normEpsilon: value(.layerNormEpsilon)?.double ?? 1e-12, ropeDimensions: 0,
                tiedOutputHead: false, activation: .gelu)
        default:
            throw ModelConfigError(field: GGUFKey.architecture, message: "'\(arch)' is not supported (llama or bert)")
        }
        config.setBlockHeads(query: headList, keyValue: arch == "bert" ? headList : kvHeadList)
        try config.validate()
        return config
    }

    /// The `general.architecture` a GGUF of this config declares. A llama whose blocks have
    /// different FFN widths is written as llama.cpp's `deci` architecture (the llama graph with
    /// per-layer widths, made for Nemotron-NAS): llama.cpp's `llama` reads a per-layer
    /// `feed_forward_length` array but builds every block's tensors with block 0's width, so
    /// such a file would not load as `llama`.
    /// The same holds for per-layer head counts (head pruning): `llama` builds every block's
    /// q/k/v/o with block 0's heads, `deci` with each block's own.
    public var ggufArchitectureName: String {
        let perLayer = Set(intermediateSizes).count > 1 || Set((0..<blockCount).map { heads(inBlock: $0) }).count > 1
            || Set((0..<blockCount).map { kvHeads(inBlock: $0) }).count > 1
        return architecture == .llama && perLayer ? "deci" : architecture.rawValue
    }

    /// The `{arch}.*` metadata entries that describe this config, as llama.cpp reads them: the FFN
    /// width is one number when every block agrees and a per-layer array when they differ.
    public func ggufMetadata() -> [(String, GGUFValue)] {
        let arch = ggufArchitectureName
        let widths = intermediateSizes
        let width: GGUFValue = Set(widths).count <= 1
            ? .uint32(UInt32(widths.first ?? 0)) : .array(.uint32(widths.map { UInt32($0) }))
        typealias Key = GGUFKey.Architecture
        var entries: [(String, GGUFValue)] = [
            (GGUFKey.architecture, .string(arch)),
            (Key.blockCount.key(arch), .uint32(UInt32(blockCount))),
            (Key.contextLength.key(arch), .uint32(UInt32(contextLength))),
            (Key.embeddingLength.key(arch), .uint32(UInt32(hiddenSize))),
            (Key.feedForwardLength.key(arch), width),
            (Key.headCount.key(arch), perLayerValue((0..<blockCount).map { heads(inBlock: $0) })),
        ]
        switch architecture {
        case .llama:
            entries += [
                (Key.headCountKV.key(arch), perLayerValue((0..<blockCount).map { kvHeads(inBlock: $0) })),
                (Key.layerNormRMSEpsilon.key(arch), .float32(Float(normEpsilon))),
                (Key.ropeFreqBase.key(arch), .float32(Float(ropeBase))),
                (Key.ropeDimensionCount.key(arch), .uint32(UInt32(ropeDimensions))),
                (Key.vocabSize.key(arch), .uint32(UInt32(vocabSize))),
            ]
        case .bert:
            entries += [(Key.layerNormEpsilon.key(arch), .float32(Float(normEpsilon)))]
        }
        if hasPerBlockHeads {   // the head dimension no longer follows from embedding_length / head_count
            entries += [(Key.keyLength.key(arch), .uint32(UInt32(headDimension))),
                        (Key.valueLength.key(arch), .uint32(UInt32(headDimension)))]
        }
        return entries
    }

    /// One number when every block agrees, else one per block.
    func perLayerValue(_ values: [Int]) -> GGUFValue {
        Set(values).count <= 1 ? .uint32(UInt32(values.first ?? 0)) : .array(.uint32(values.map { UInt32($0) }))
    }
}
