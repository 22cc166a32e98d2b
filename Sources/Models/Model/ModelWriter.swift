import Foundation
import Numerics

/// The stored type of the weight matrices a save writes.
public enum WeightType: String, Sendable, CaseIterable {
    /// Unchanged tensors keep their bytes; changed matrices become Q8_0 in GGUF (F16 when a row
    /// is not whole blocks of 32) and F32 in safetensors.
    case auto
    /// 32-bit floats.
    case f32
    /// IEEE half precision.
    case f16
    /// bfloat16 (safetensors only).
    case bf16
    /// ggml Q8_0 (GGUF only).
    case q8_0
    /// ggml Q4_0 (GGUF only).
    case q4_0
    /// llama.cpp's presets (GGUF only): each matrix gets the type `llama_model_quantize` gives it,
    /// bytes equal to llama.cpp's (`GGMLTypeMix`).
    case q4_1, q5_0, q5_1, q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k

    /// The llama.cpp preset this type names, if any.
    public var preset: GGMLTypeMix.Preset? { GGMLTypeMix.Preset(rawValue: rawValue) }
}

/// What a save did: where it wrote, how many tensors went through untouched or re-encoded, and
/// any tensor that could not take the asked type.
public struct SaveReport: Sendable {
    /// The weights file written.
    public var path: String
    /// Other files written beside it (config.json, tokenizer files, shard index).
    public var companions: [String] = []
    /// Tensors written.
    public var tensorCount = 0
    /// Tensors whose stored bytes were copied unchanged.
    public var passedThrough = 0
    /// Tensors written as some of their source's rows, the rows' stored blocks copied unchanged
    /// (gate/up after structured pruning).
    public var rowsCopied = 0
    /// Tensors re-encoded in their source's quantised type (a pruned down projection).
    public var typeKept = 0
    /// Tensors written in another type than asked, with the reason.
    public var fallbacks: [String] = []
    /// Source tensors left out, with the reason.
    public var skipped: [String] = []
    /// Bytes of the weights file.
    public var bytes = 0
    /// Matrices changed in memory (not views of a stored tensor) and encoded in the default type.
    public var reencoded = 0
    /// Why the file is larger than the GGUF file the model was loaded from, when it is.
    public var largerThanSource: String? = nil

    /// An empty report for a save to `path`.
    public init(path: String) { self.path = path }

    /// The fallbacks and skipped tensors as a reader wants them: notes that differ only in the
    /// block number of a "blk.N." tensor are one note naming the blocks ("blk.{0–29}.ffn_down.weight:
    /// …"), in the order each first appears.
    public var notes: [String] { Self.grouped(fallbacks) + Self.grouped(skipped) + (largerThanSource.map { [$0] } ?? []) }

    /// `notes`' grouping of `lines`.
    static func grouped(_ lines: [String]) -> [String] {
        var order: [String] = [], blocks: [String: [Int]] = [:]
        for line in lines {
            var key = line, block: Int?
            if line.hasPrefix("blk."), let dot = line.dropFirst(4).firstIndex(of: "."), let n = Int(line[line.index(line.startIndex, offsetBy: 4)..<dot]) {
                key = "blk.#" + line[dot...]
                block = n
            }
            if blocks[key] == nil { order.append(key); blocks[key] = [] }
            if let block { blocks[key]!.append(block) }
        }
        return order.map { key in
            let found = blocks[key]!
            guard !found.isEmpty else { return key }
            let label = found.count == 1 ? "\(found[0])" : "{\(ranges(found))}"
            return key.replacingOccurrences(of: "blk.#", with: "blk.\(label)")
        }
    }

    /// "0–3, 7, 9–11" for sorted runs of the numbers.
    private static func ranges(_ numbers: [Int]) -> String {
        var parts: [String] = [], sorted = Array(Set(numbers)).sorted(), i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(j == i ? "\(sorted[i])" : "\(sorted[i])–\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }
}

/// Saves models so that other tools load them: GGUF for llama.cpp (metadata of the source kept,
/// the config's keys rewritten, unchanged tensors passed through byte for byte) and safetensors
/// with a Hugging Face `config.json` (and the tokenizer files of the source) for `transformers`.
public enum ModelWriter {
    /// Saves `model` to `path`; the format follows the extension: `.gguf`, `.safetensors` (with
    /// `config.json` written beside it), or no extension for a Hugging Face folder
    /// (`model.safetensors`, `config.json`, tokenizer files). With `maxShardBytes`, a folder save
    /// writes Hugging Face shards and `model.safetensors.index.json` instead of one file.
    /// A SliceGPT-sliced model (config `residualSize` set) saves only as safetensors: its
    /// shortcut matrices are written as `model.layers.N.attn_shortcut_Q.weight` /
    /// `mlp_shortcut_Q.weight` and its sliced width as `prunelang_sliced_residual_size` in
    /// config.json. PruneLang reloads that form; llama.cpp and plain `transformers` cannot load it,
    /// so a GGUF save of such a model throws instead of writing something wrong.
    /// A save never replaces a file the caller did not name: an empty path throws (it would mean
    /// the current folder), and so does a save whose `config.json` or tokenizer files would
    /// replace files in a folder that does not already hold a model (see `checkCompanions`).
    @discardableResult
    public static func save(_ model: Model, to path: String, weightType: WeightType = .auto,
                            maxShardBytes: Int? = nil) throws -> SaveReport {
        guard !path.isEmpty else {
            throw ModelError.unsavable(path: path, reason: "the path is empty; name a .gguf or .safetensors file, or a folder for a Hugging Face model")
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.pathExtension.isEmpty ? url : url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        var existing = folder
        while !FileManager.default.fileExists(atPath: existing.path, isDirectory: &isFolder) { existing.deleteLastPathComponent() }
        guard isFolder.boolValue else {
            throw ModelError.unsavable(path: path, reason: "'\(existing.path)' is a file, not a folder")
        }
        guard existing == folder || url.pathExtension.isEmpty else {
            throw ModelError.unsavable(path: path, reason: "the folder '\(folder.path)' does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: existing.path) else {
            throw ModelError.unsavable(path: path, reason: "the folder '\(existing.path)' is not writable")
        }
        switch url.pathExtension.lowercased() {
        case "gguf":
            return try saveGGUF(model, to: path, weightType: weightType)
        case "safetensors":
            try checkCompanions(model, in: folder, for: path)
            return try saveSafetensors(model, file: url, weightType: weightType)
        case "":
            try checkCompanions(model, in: folder, for: path)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return try saveSafetensors(model, file: url.appendingPathComponent("model.safetensors"), weightType: weightType,
                                       maxShardBytes: maxShardBytes)
        default:
            throw ModelError.unsavable(path: path, reason: "save writes .gguf, .safetensors, or a folder (no extension), not .\(url.pathExtension)")
        }
    }

    /// The files a safetensors or folder save writes into `folder` beside the weights, by name.
    static let companionNames = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                                 "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                                 "config_sentence_transformers.json", "1_Pooling"]

    /// Throws when a safetensors or folder save into `folder` would replace a file the caller did
    /// not name: `config.json` and the tokenizer files are replaced only in a folder that already
    /// holds a model, i.e. whose `config.json` is a model's (it names `model_type` or
    /// `architectures`, as Hugging Face configs and earlier saves do). A folder save writes only
    /// into a new folder, an empty one, or such a model folder.
    static func checkCompanions(_ model: Model, in folder: URL, for path: String) throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else { return }
        // Saving back into the folder the model came from rewrites its own files.
        let source = model.huggingFaceFolder.map { URL(fileURLWithPath: $0) }
        if let source, source.standardized.path == folder.standardized.path { return }
        // The companions this save writes: config.json always, the others when the source has them.
        let present = companionNames.filter { name in
            (name == "config.json" || source.map { fm.fileExists(atPath: $0.appendingPathComponent(name).path) } == true)
                && fm.fileExists(atPath: folder.appendingPathComponent(name).path)
        }
        guard !present.isEmpty else { return }
        let configPath = folder.appendingPathComponent("config.json").path
        if let data = fm.contents(atPath: configPath),
           let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           obj["model_type"] != nil || obj["architectures"] != nil {
            return
        }
        let names = present.map { "'\($0)'" }.joined(separator: ", ")
        throw ModelError.unsavable(path: path, reason: "the folder '\(folder.path)' holds \(names) but no model config.json, and the save would replace \(present.count == 1 ? "it" : "them") (a safetensors save writes config.json and the tokenizer files beside the weights); save into a new or empty folder, or name a .gguf file")
    }

    /// Places in the order files conventionally list them: model-wide inputs, blocks in order,
    /// then the output norm and head.
    static func orderedPlaces(_ model: Model) -> [TensorPlace] {
        let roles = TensorRole.allCases
        func key(_ p: TensorPlace) -> (Int, Int, Int, Int) {
            let stage = p.block != nil ? 1 : (p.role == .outputNorm || p.role == .outputHead || p.role == .pooler ? 2 : 0)
            return (stage, p.block ?? 0, roles.firstIndex(of: p.role) ?? 0, p.part == .weight ? 0 : 1)
        }
        return model.tensors.keys.sorted { key($0) < key($1) }
    }

    // MARK: GGUF

    static func saveGGUF(_ model: Model, to path: String, weightType: WeightType) throws -> SaveReport {
        guard model.config.residualSize == nil else {
            throw ModelError.unsavable(path: path, reason: "model '\(model.name)' has a SliceGPT-sliced residual stream with shortcut matrices, which llama.cpp cannot load; save it as .safetensors or a folder instead (PruneLang reloads those)")
        }
        guard model.ggufMetadata.contains(where: { $0.key == GGUFKey.tokenizerModel }) else {
            throw ModelError.unsavable(path: path, reason: "model '\(model.name)' has no GGUF tokenizer metadata (it was not loaded from a GGUF file), so llama.cpp could not load it; save it as .safetensors or a folder instead")
        }
        guard weightType != .bf16 else {
            throw ModelError.unsavable(path: path, reason: "GGUF weights are written as f32, f16, q8_0 or q4_0, not bf16")
        }
        var report = SaveReport(path: path)
        // Metadata: the source's entries, with the config's keys replaced in place and new ones appended.
        let fresh = model.config.ggufMetadata()
        let freshKeys = Dictionary(fresh.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        let arch = model.config.ggufArchitectureName
        let sourceArch = model.ggufMetadata.first { $0.key == GGUFKey.architecture }?.value.string ?? arch
        var metadata = [(String, GGUFValue)]()
        var emitted = Set<String>()
        for e in model.ggufMetadata where e.key != GGUFKey.alignment {
            // The source's architecture keys move to the architecture written (llama ↔ deci).
            let key = e.key.hasPrefix(sourceArch + ".") ? arch + e.key.dropFirst(sourceArch.count) : e.key
            if let v = freshKeys[key] { metadata.append((key, v)); emitted.insert(key) }
            else { metadata.append((key, e.value)) }
        }
        for (k, v) in fresh where !emitted.contains(k) { metadata.append((k, v)) }

        var tensors = [GGUFWriter.Tensor]()
        let mix = weightType.preset.map {
            GGMLTypeMix(preset: $0, blocks: model.config.intermediateSizes.count, queryGroups: model.config.heads / max(1, model.config.kvHeads),
                        hasOutputHead: model.tensors.keys.contains { $0.role == .outputHead })
        }
        for place in orderedPlaces(model) {
            guard let t = model.tensors[place], let name = TensorNaming.gguf.name(of: place) else { continue }
            tensors.append(try ggufTensor(t, name: name, weightType: weightType, mix: mix, report: &report))
        }
        for t in model.otherTensors {
            if case let .gguf(file, info) = t.storage {
                tensors.append(GGUFWriter.Tensor(name: t.name, shape: info.shape, type: info.type) { try file.rawBytes(of: info).withUnsafeBytes { Data($0) } })
                report.passedThrough += 1
            } else {
                report.skipped.append("\(t.name): not a GGUF tensor and plays no role llama.cpp reads")
            }
        }
        report.tensorCount = tensors.count
        try GGUFWriter.write(metadata: metadata, tensors: tensors, to: path)
        report.bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        report.largerThanSource = largerNote(model, report: report, weightType: weightType)
        return report
    }

    /// A note when a default-typed save came out larger than the GGUF file the model was loaded
    /// from, saying why: matrices changed in memory are written as Q8_0 (exact zeros stay zero,
    /// values within Q8_0's rounding), and rows that are not whole blocks as F16.
    static func largerNote(_ model: Model, report: SaveReport, weightType: WeightType) -> String? {
        guard weightType == .auto, let source = model.tensors.values.lazy.compactMap({ t -> GGUFFile? in
            if case let .gguf(file, _) = t.stored.storage { return file }
            return nil
        }).first, report.bytes > source.fileSize else { return nil }
        let mb = { (n: Int) in String(format: "%.1f MB", Double(n) / 1e6) }
        var why: [String] = []
        if report.reencoded > 0 { why.append("\(report.reencoded) matrices changed in memory are written as Q8_0 (exact zeros stay zero)") }
        if !report.fallbacks.isEmpty { why.append("rows that are not whole blocks fall back as the notes above say") }
        let ratio = String(format: "%.2f", Double(report.bytes) / Double(source.fileSize))
        return "the file is \(mb(report.bytes)), \(ratio)× the \(mb(source.fileSize)) it was loaded from" + (why.isEmpty ? "" : ": " + why.joined(separator: "; "))
            + "; save(..., type=\"q4_0\") or a preset such as \"q4_k_m\" writes fewer bits per weight"
    }

    /// The GGUF tensor for `t`: its original bytes when its type stays, else re-encoded.
    static func ggufTensor(_ t: WeightTensor, name: String, weightType: WeightType, mix: GGMLTypeMix? = nil,
                           report: inout SaveReport) throws -> GGUFWriter.Tensor {
        let isVector = t.shape.count == 1
        if let mix, !isVector {
            let (type, note) = mix.type(name: name, rowLength: t.cols)
            if let note { report.fallbacks.append(note) }
            if case let .gguf(file, info) = t.storage, t.rowOrder == nil, info.type == type {
                report.passedThrough += 1
                return GGUFWriter.Tensor(name: name, shape: info.shape, type: info.type) { try file.rawBytes(of: info).withUnsafeBytes { Data($0) } }
            }
            return GGUFWriter.Tensor(name: name, shape: t.shape, type: type) { try encode(t, as: type) }
        }
        if case let .gguf(file, info) = t.storage, t.rowOrder == nil,
           weightType == .auto || isVector || info.type.name.lowercased() == weightType.rawValue {
            report.passedThrough += 1
            return GGUFWriter.Tensor(name: name, shape: info.shape, type: info.type) { try file.rawBytes(of: info).withUnsafeBytes { Data($0) } }
        }
        // Some rows of a stored tensor (gate/up after structured pruning): the kept rows' blocks,
        // copied as they are, so nothing is lost and the type stays.
        if case let .gguf(file, info) = t.storage, let order = t.rowOrder, info.shape.count == 2,
           weightType == .auto || info.type.name.lowercased() == weightType.rawValue {
            report.rowsCopied += 1
            return GGUFWriter.Tensor(name: name, shape: t.shape, type: info.type) { try rowBytes(order, of: info, in: file) }
        }
        // Some columns of a quantised stored tensor (down after structured pruning): re-encoded in
        // the source's type when its rows stay whole blocks of that type.
        if weightType == .auto, case let .columns(base, _) = t.storage, case let .gguf(_, info) = base.storage,
           info.type.isQuantized, GGMLQuantizer.writableTypes.contains(info.type) {
            if t.cols % info.type.blockSize == 0 {
                report.typeKept += 1
                return GGUFWriter.Tensor(name: name, shape: t.shape, type: info.type) { try encode(t, as: info.type) }
            }
            let instead: GGMLType = t.cols % GGMLType.q8_0.blockSize == 0 ? .q8_0 : .f16
            report.fallbacks.append("\(name): rows of \(t.cols) are not whole blocks of \(info.type.blockSize), written as \(instead.name) instead of \(info.type.name) (prune keeps a multiple of the block size unless exact=true)")
            return GGUFWriter.Tensor(name: name, shape: t.shape, type: instead) { try encode(t, as: instead) }
        }
        var type: GGMLType
        switch weightType {
        case _ where isVector: type = .f32
        case .auto, .q8_0: type = .q8_0
        case .q4_0: type = .q4_0
        case .f16: type = .f16
        case .f32, .bf16: type = .f32
        default: type = .q8_0   // presets are handled above
        }
        if t.cols % type.blockSize != 0 {
            report.fallbacks.append("\(name): rows of \(t.cols) are not whole blocks of \(type.blockSize), written as F16 instead of \(type.name)")
            type = .f16
        }
        let shape = t.shape
        if !isVector, weightType == .auto { report.reencoded += 1 }
        return GGUFWriter.Tensor(name: name, shape: shape, type: type) { try encode(t, as: type) }
    }

    /// The stored bytes of rows `order` of a 2-D GGUF tensor, in that order.
    static func rowBytes(_ order: [Int], of info: GGUFTensorInfo, in file: GGUFFile) throws -> Data {
        let rowBytes = info.byteCount / max(1, info.rows)
        if let bad = order.first(where: { $0 < 0 || $0 >= info.rows }) {
            throw ModelError.inconsistent(model: info.name, detail: "row \(bad) is outside 0..<\(info.rows)")
        }
        var out = Data(count: order.count * rowBytes)
        try file.rawBytes(of: info).withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for (r, stored) in order.enumerated() {
                    (dst.baseAddress! + r * rowBytes).copyMemory(from: src.baseAddress! + stored * rowBytes, byteCount: rowBytes)
                }
            }
        }
        return out
    }

    /// `t`'s values encoded as `type`, after checking that memory can hold the dequantised values
    /// and the encoded bytes (one tensor at a time: a save never holds more).
    static func encode(_ t: WeightTensor, as type: GGMLType) throws -> Data {
        let encoded = GGUFTensorInfo.byteCount(elements: t.elementCount, type: type) ?? t.elementCount * 4
        try MemoryBudget.require(t.readBytes + encoded, for: "saving \(t.name) as \(type.name)",
                                 advice: "free memory (close other models) and save again")
        return try GGMLQuantizer.encode(t.floats(), as: type)
    }

    // MARK: safetensors

    static func saveSafetensors(_ model: Model, file: URL, weightType: WeightType, maxShardBytes: Int? = nil) throws -> SaveReport {
        let dtype: SafetensorsDType
        switch weightType {
        case .auto, .f32: dtype = .f32
        case .f16: dtype = .f16
        case .bf16: dtype = .bf16
        default:
            throw ModelError.unsavable(path: file.path, reason: "safetensors weights are written as f32, f16 or bf16, not \(weightType.rawValue)")
        }
        var report = SaveReport(path: file.path)
        // The safetensors writer holds every tensor's bytes until it writes the file.
        let total = model.tensors.values.reduce(0) { $0 + $1.elementCount * dtype.size }
        try MemoryBudget.require(total, for: "saving '\(model.name)' as safetensors",
                                 advice: "save it as .gguf, which is written one tensor at a time")
        let config = model.config
        let naming: TensorNaming = config.architecture == .bert ? .huggingFaceBERT : .huggingFaceLlama
        var entries = [SafetensorsWriter.Entry]()
        for place in orderedPlaces(model) {
            guard let t = model.tensors[place], let name = naming.name(of: place) else {
                report.skipped.append("\(model.describe(place)): no \(naming.rawValue) name")
                continue
            }
            var m = try t.matrix()
            if config.architecture == .llama, place.part == .weight,
               place.role == .attentionQuery || place.role == .attentionKey {
                let b = place.block ?? 0
                let heads = place.role == .attentionQuery ? config.heads(inBlock: b) : config.kvHeads(inBlock: b)
                m = m.reorderingRows(RoPELayout.interleaved.rowOrder(to: .halves, rows: m.rows, heads: heads))
            }
            entries.append(entry(name: name, shape: t.shape, values: m.data, dtype: dtype))
        }
        for t in model.otherTensors {
            if case let .safetensors(src, info) = t.storage {
                entries.append(SafetensorsWriter.Entry(name: t.name, dtype: info.dtype, shape: info.shape,
                                                       bytes: try src.rawBytes(of: info).withUnsafeBytes { Data($0) }))
                report.passedThrough += 1
            } else {
                report.skipped.append("\(t.name): a GGUF-only tensor that Hugging Face models do not hold")
            }
        }
        report.tensorCount = entries.count
        report.companions = try writeCompanions(model, beside: file)
        if let limit = maxShardBytes {
            let paths = try SafetensorsWriter.writeSharded(entries, maxShardBytes: limit, metadata: ["format": "pt"],
                                                           folder: file.deletingLastPathComponent().path)
            report.path = paths.last ?? file.path
            report.companions += paths.dropLast()
            report.bytes = entries.reduce(0) { $0 + $1.bytes.count }
        } else {
            try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: file.path)
            report.bytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        }
        return report
    }

    /// One safetensors entry of `values` in `dtype`.
    static func entry(name: String, shape: [Int], values: [Float], dtype: SafetensorsDType) -> SafetensorsWriter.Entry {
        switch dtype {
        case .f16:
            let bits = values.map { HalfPrecision.half(from: $0).littleEndian }
            return SafetensorsWriter.Entry(name: name, dtype: .f16, shape: shape, bytes: bits.withUnsafeBufferPointer { Data(buffer: $0) })
        case .bf16:
            let bits = values.map { HalfPrecision.bfloat16(from: $0).littleEndian }
            return SafetensorsWriter.Entry(name: name, dtype: .bf16, shape: shape, bytes: bits.withUnsafeBufferPointer { Data(buffer: $0) })
        default:
            return SafetensorsWriter.Entry(name: name, shape: shape, floats: values)
        }
    }

    /// Writes `config.json` (the source's, with the config's fields rewritten) and copies the
    /// source's tokenizer and sentence-transformers files into the folder of `file`.
    static func writeCompanions(_ model: Model, beside file: URL) throws -> [String] {
        let folder = file.deletingLastPathComponent()
        var written = [String]()
        var config = [String: Any]()
        if let src = model.huggingFaceFolder,
           let data = FileManager.default.contents(atPath: URL(fileURLWithPath: src).appendingPathComponent("config.json").path),
           let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            config = obj
        }
        for (k, v) in model.config.huggingFaceJSON() { config[k] = v }
        let configURL = folder.appendingPathComponent("config.json")
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]), to: configURL.path)
        written.append(configURL.path)
        guard let src = model.huggingFaceFolder, URL(fileURLWithPath: src).standardized != folder.standardized else { return written }
        let fm = FileManager.default
        for item in companionNames where item != "config.json" {
            let from = URL(fileURLWithPath: src).appendingPathComponent(item)
            let to = folder.appendingPathComponent(item)
            guard fm.fileExists(atPath: from.path) else { continue }
            try? fm.removeItem(at: to)
            try fm.copyItem(at: from, to: to)
            written.append(to.path)
        }
        return written
    }
}
