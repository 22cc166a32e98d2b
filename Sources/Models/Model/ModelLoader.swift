import Foundation

/// Opens models: by short name (`ModelCatalog`), or by path to a GGUF file, a safetensors file, a
/// sharded `model.safetensors.index.json`, or a folder holding `config.json` with
/// `model.safetensors` (or the index). Only headers are read; weights stay mapped until used.
public enum ModelLoader {
    /// Loads a model by short name or path.
    public static func load(_ nameOrPath: String) throws -> Model {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let expanded = (nameOrPath as NSString).expandingTildeInPath
        if fm.fileExists(atPath: expanded, isDirectory: &isDir) {
            return try open(path: expanded, isDirectory: isDir.boolValue)
        }
        if ModelCatalog.entry(named: nameOrPath) != nil {
            let path = try ModelCatalog.resolve(nameOrPath)
            _ = fm.fileExists(atPath: path, isDirectory: &isDir)
            var model = try open(path: path, isDirectory: isDir.boolValue)
            model.name = nameOrPath
            return model
        }
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".gguf") || nameOrPath.hasSuffix(".safetensors") {
            throw ModelError.unrecognisedPath(path: nameOrPath, reason: "no such file or folder")
        }
        throw ModelError.unknownName(name: nameOrPath, known: ModelCatalog.entries.map(\.name))
    }

    /// Opens an existing path, deciding the format from what is there.
    static func open(path: String, isDirectory: Bool) throws -> Model {
        let url = URL(fileURLWithPath: path)
        if isDirectory {
            let fm = FileManager.default
            for candidate in ["model.safetensors", "model.safetensors.index.json"] {
                let p = url.appendingPathComponent(candidate).path
                if fm.fileExists(atPath: p) { return try openSafetensors(path: p) }
            }
            let ggufs = (try? fm.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".gguf") }.sorted()) ?? []
            if ggufs.count == 1 { return try openGGUF(path: url.appendingPathComponent(ggufs[0]).path) }
            throw ModelError.unrecognisedPath(path: path, reason: "the folder holds neither model.safetensors (with config.json), model.safetensors.index.json, nor exactly one .gguf file")
        }
        let magic = (try? FileHandle(forReadingFrom: url).read(upToCount: 4)) ?? nil
        if magic == Data("GGUF".utf8) { return try openGGUF(path: path) }
        if path.hasSuffix(".json") || path.hasSuffix(".safetensors") { return try openSafetensors(path: path) }
        if path.hasSuffix(".gguf") { return try openGGUF(path: path) }
        throw ModelError.unrecognisedPath(path: path, reason: "not a GGUF file (no GGUF magic) and not a .safetensors file")
    }

    /// Opens a GGUF file: config from its metadata, tensors mapped by their GGUF names.
    public static func openGGUF(path: String) throws -> Model {
        let file = try GGUFFile(path: path)
        let config = try ModelConfig.fromGGUF(file)
        var tensors = [TensorPlace: WeightTensor]()
        var others = [WeightTensor]()
        for info in file.tensors {
            let t = WeightTensor(name: info.name, shape: info.shape, storage: .gguf(file, info))
            if let place = TensorNaming.gguf.place(of: info.name) { tensors[place] = t } else { others.append(t) }
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let model = Model(name: name, path: path, format: .gguf, config: config, tensors: tensors,
                          otherTensors: others, ggufMetadata: file.metadata, fileSize: file.fileSize)
        try ModelShapes.check(model)
        return model
    }

    /// Opens Hugging Face safetensors weights (`path` is the .safetensors file or the sharded
    /// index); the `config.json` beside it supplies the config. Llama query/key rows are read in
    /// GGUF's RoPE order, so every model view uses one convention.
    public static func openSafetensors(path: String) throws -> Model {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let configURL = folder.appendingPathComponent("config.json")
        guard let configData = try? Data(contentsOf: configURL) else {
            throw ModelError.unrecognisedPath(path: path, reason: "no config.json beside it (a safetensors file alone does not say which architecture it holds)")
        }
        let config = try ModelConfig.fromHuggingFace(json: configData)
        let files = try SafetensorsShards.open(path: path)
        let all = files.flatMap { f in f.tensors.map { (f, $0) } }
        let naming: TensorNaming = config.architecture == .bert ? .huggingFaceBERT : .huggingFaceLlama
        var tensors = [TensorPlace: WeightTensor]()
        var others = [WeightTensor]()
        for (file, t) in all {
            var order: [Int]? = nil
            let place = naming.place(of: t.name)
            if naming == .huggingFaceLlama, let p = place, p.part == .weight,
               p.role == .attentionQuery || p.role == .attentionKey {
                let b = p.block ?? 0
                let heads = p.role == .attentionQuery ? config.heads(inBlock: b) : config.kvHeads(inBlock: b)
                order = RoPELayout.halves.rowOrder(to: .interleaved, rows: t.shape.first ?? 0, heads: heads)
            }
            let w = WeightTensor(name: t.name, shape: t.shape, storage: .safetensors(file, t), rowOrder: order)
            if let p = place { tensors[p] = w } else { others.append(w) }
        }
        let size = files.reduce(0) { $0 + $1.file.count }
        let model = Model(name: folder.lastPathComponent, path: path, format: .safetensors, config: config,
                          tensors: tensors, otherTensors: others, huggingFaceFolder: folder.path, fileSize: size)
        try ModelShapes.check(model)
        return model
    }
}

/// Reading the shards of a Hugging Face checkpoint.
enum SafetensorsShards {
    /// The files of a checkpoint: one for a .safetensors path; every shard the index's
    /// `weight_map` names for a `model.safetensors.index.json` path.
    static func open(path: String) throws -> [SafetensorsFile] {
        guard path.hasSuffix(".json") else { return [try SafetensorsFile(path: path)] }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = obj["weight_map"] as? [String: String] else {
            throw SafetensorsError("weight_map", "is missing or not an object of tensor name → file", path: path)
        }
        var files = [SafetensorsFile]()
        for shard in Set(map.values).sorted() {
            guard !shard.contains("/"), !shard.hasPrefix(".") else {
                throw SafetensorsError("weight_map", "names a shard outside the folder: '\(shard)'", path: path)
            }
            let file = try SafetensorsFile(path: folder.appendingPathComponent(shard).path)
            for (name, s) in map where s == shard && file.tensor(named: name) == nil {
                throw SafetensorsError(name, "is listed in the index under \(shard) but that shard does not hold it", path: path)
            }
            files.append(file)
        }
        return files
    }
}
