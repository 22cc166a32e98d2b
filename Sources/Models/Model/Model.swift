import Foundation
import Numerics

/// The file format a model was read from.
public enum ModelFormat: String, Sendable {
    /// A GGUF file (llama.cpp).
    case gguf
    /// A safetensors file, with a Hugging Face `config.json` beside it.
    case safetensors
    /// Built or changed in memory.
    case memory
}

/// A transformer model as PruneLang sees it, whatever file it came from: its config and its
/// weight tensors keyed by architecture-neutral place (role, weight/bias, block). Weights are
/// read lazily (`WeightTensor`), so opening a model reads only headers; a pruned model is a copy
/// whose changed tensors live in memory while the rest still point into the mapped file.
public struct Model: Sendable {
    /// A short name for display: the model's short name or its file name.
    public var name: String
    /// The file or folder it was loaded from, if any.
    public var path: String?
    /// The format of that file.
    public var format: ModelFormat
    /// The hyper-parameters.
    public var config: ModelConfig
    /// The weights by place.
    public var tensors: [TensorPlace: WeightTensor]
    /// Tensors that play no recognised role (e.g. `rope_freqs`, integer buffers); kept so a
    /// saved model loses nothing.
    public var otherTensors: [WeightTensor]
    /// The GGUF metadata of the source file (tokenizer, chat template, ...), kept so a saved GGUF
    /// loads in llama.cpp; empty for safetensors models.
    public var ggufMetadata: [GGUFMetadataEntry]
    /// The folder holding the tokenizer files of a Hugging Face model, if any.
    public var huggingFaceFolder: String?
    /// Bytes on disk of the source weights (0 for a model built in memory).
    public var fileSize: Int

    /// A model from its parts.
    public init(name: String, path: String? = nil, format: ModelFormat, config: ModelConfig,
                tensors: [TensorPlace: WeightTensor], otherTensors: [WeightTensor] = [],
                ggufMetadata: [GGUFMetadataEntry] = [], huggingFaceFolder: String? = nil, fileSize: Int = 0) {
        self.name = name
        self.path = path
        self.format = format
        self.config = config
        self.tensors = tensors
        self.otherTensors = otherTensors
        self.ggufMetadata = ggufMetadata
        self.huggingFaceFolder = huggingFaceFolder
        self.fileSize = fileSize
    }

    /// The number of blocks (layers).
    public var blockCount: Int { config.blockCount }

    /// The tensor at a role's weight or bias, in `block` for per-block roles.
    public func tensor(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil) -> WeightTensor? {
        guard role.isPerBlock == (block != nil) else { return nil }
        return tensors[TensorPlace(role, part, block: block)]
    }

    /// The tensor at `role` as a dequantised matrix; throws `ModelError.missingTensor` when the
    /// model has none there. The output head of a tied model is the token embedding.
    public func matrix(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil) throws -> Matrix {
        if let t = tensor(role, part, block: block) { return try t.matrix() }
        if role == .outputHead, part == .weight, config.tiedOutputHead, let e = tensor(.tokenEmbedding) {
            return try e.matrix()
        }
        throw ModelError.missingTensor(model: name, place: describe(TensorPlace(role, part, block: block)))
    }

    /// Whether the model has a tensor at `role` (bias or weight) in `block`.
    public func has(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil) -> Bool {
        tensor(role, part, block: block) != nil
    }

    /// Replaces (or adds) the tensor at a place with `matrix`, held in memory; the tensor keeps
    /// its file name, and a new one gets its GGUF name.
    public mutating func set(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil, to matrix: Matrix) {
        let place = TensorPlace(role, part, block: block)
        if let old = tensors[place] {
            tensors[place] = old.replacing(with: matrix)
        } else {
            let name = TensorNaming.gguf.name(of: place) ?? "\(role.rawValue).\(part.rawValue)"
            tensors[place] = WeightTensor(name: name, matrix: matrix, isVector: part == .bias || matrix.rows == 1)
        }
    }

    /// Replaces the weight at a place by `tensor` as it is (a lazy row or column view of a stored
    /// tensor, say), keeping the old tensor's file name.
    public mutating func setView(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil, to tensor: WeightTensor) {
        let place = TensorPlace(role, part, block: block)
        let name = tensors[place]?.name ?? tensor.name
        tensors[place] = WeightTensor(name: name, shape: tensor.shape, storage: tensor.storage, rowOrder: tensor.rowOrder)
    }

    /// Removes the tensor at a place (e.g. a bias that pruning made meaningless).
    public mutating func remove(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil) {
        tensors[TensorPlace(role, part, block: block)] = nil
    }

    /// A copy without the blocks in `removed`; later blocks are renumbered so block indices stay
    /// contiguous (what layer-dropping pruners produce).
    public func removingBlocks(_ removed: Set<Int>) -> Model {
        var out = self
        var map = [Int: Int]()
        var next = 0
        for b in 0..<blockCount where !removed.contains(b) { map[b] = next; next += 1 }
        out.tensors = [:]
        for (place, t) in tensors {
            if let b = place.block {
                guard let nb = map[b] else { continue }
                out.tensors[TensorPlace(place.role, place.part, block: nb)] = t
            } else {
                out.tensors[place] = t
            }
        }
        out.config.intermediateSizes = (0..<blockCount).filter { !removed.contains($0) }.map { config.intermediateSizes[$0] }
        return out
    }

    /// Parameters: elements of every floating-point weight tensor (integer buffers excluded).
    public var parameterCount: Int {
        tensors.values.reduce(0) { $0 + ($1.isParameter ? $1.elementCount : 0) }
            + otherTensors.reduce(0) { $0 + ($1.isParameter ? $1.elementCount : 0) }
    }

    /// Elements of tensors that are not parameters (integer buffers such as `position_ids`).
    public var bufferElementCount: Int {
        (Array(tensors.values) + otherTensors).reduce(0) { $0 + ($1.isParameter ? 0 : $1.elementCount) }
    }

    /// A place in words, e.g. "block 3 ffnUp weight".
    func describe(_ place: TensorPlace) -> String {
        (place.block.map { "block \($0) " } ?? "") + "\(place.role.rawValue) \(place.part.rawValue)"
    }
}

/// A model that cannot be loaded, resolved or used as asked.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The model has no tensor at a place that was asked for.
    case missingTensor(model: String, place: String)
    /// A short model name is not known.
    case unknownName(name: String, known: [String])
    /// A known model has not been fetched into the models folder.
    case notFetched(name: String, expected: String, fetchCommand: String)
    /// A path that is neither a GGUF file, a safetensors file nor a model folder.
    case unrecognisedPath(path: String, reason: String)
    /// The weights do not fit the config (a shape or a tensor is wrong or missing).
    case inconsistent(model: String, detail: String)
    /// A save that cannot be written as asked (format, weight type, destination).
    case unsavable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingTensor(model, place):
            return "model '\(model)' has no \(place) tensor"
        case let .unknownName(name, known):
            return "no model named '\(name)': give a path to a .gguf or .safetensors file or a model folder, or one of \(known.joined(separator: ", "))"
        case let .notFetched(name, expected, command):
            return "model '\(name)' is not in the models folder (looked for \(expected)); fetch it with: \(command)"
        case let .unrecognisedPath(path, reason):
            return "cannot load '\(path)': \(reason)"
        case let .inconsistent(model, detail):
            return "model '\(model)': \(detail)"
        case let .unsavable(path, reason):
            return "cannot save '\(path)': \(reason)"
        }
    }
}
