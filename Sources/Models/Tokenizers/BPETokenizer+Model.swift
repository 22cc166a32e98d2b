extension BPETokenizer {
    /// The tokenizer a GGUF model carries in its metadata; throws for a model without one (a
    /// safetensors model, or a GGUF file whose metadata lacks the tokenizer keys).
    public init(model: Model) throws {
        guard model.format == .gguf || !model.ggufMetadata.isEmpty else {
            throw ModelError.inconsistent(model: model.name, detail: "has no GGUF tokenizer metadata")
        }
        let values = Dictionary(model.ggufMetadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        try self.init(metadata: { values[$0] })
    }
}
