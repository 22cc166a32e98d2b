import Foundation

/// Paths and reference helpers shared by every test target: the repository root, the models
/// folder and the real models in it, fixtures, temporary folders, and the venv's Python.
public enum TestSupport {
    /// The repository root, found from this source file.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// The models folder (`PRUNELANG_MODELS`, default `./models`), filled by scripts/fetch-models.
    public static let models = ProcessInfo.processInfo.environment["PRUNELANG_MODELS"].map { URL(fileURLWithPath: $0) }
        ?? root.appendingPathComponent("models")
    /// The Models fixtures folder.
    public static let fixtures = root.appendingPathComponent("Tests/fixtures/models")
    /// MiniLM-L6's Hugging Face config.
    public static let minilmConfig = models.appendingPathComponent("minilm-l6/config.json")
    /// MiniLM-L6's safetensors file.
    public static let minilmWeights = models.appendingPathComponent("minilm-l6/model.safetensors")
    /// The llama.cpp reference data for SmolLM2 (../shared/golden/smollm2-135m).
    public static let golden = root.deletingLastPathComponent().appendingPathComponent("shared/golden/smollm2-135m")
    /// The evaluation and calibration data (../shared/data).
    public static let data = root.deletingLastPathComponent().appendingPathComponent("shared/data")
    /// SmolLM2-135M-Instruct's GGUF file.
    public static let smolLMPath = models.appendingPathComponent("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf").path
    /// Whether SmolLM2 has been fetched.
    public static let haveSmolLM = FileManager.default.fileExists(atPath: smolLMPath)
    /// Whether MiniLM has been fetched.
    public static let haveMiniLM = FileManager.default.fileExists(atPath: minilmWeights.path)

    /// Σ bits(xᵢ)·(2i + 1) mod 2⁶⁴: a position-sensitive, bit-exact checksum of Float values,
    /// defined identically in the fixture scripts.
    public static func checksum(_ values: [Float]) -> UInt64 {
        var sum: UInt64 = 0
        values.withUnsafeBufferPointer { buffer in
            for i in buffer.indices { sum &+= UInt64(buffer[i].bitPattern) &* (2 &* UInt64(i) &+ 1) }
        }
        return sum
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("prunelang-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The path of the system tool `name` (zstd, xz: scripts/ensure-deps installs them), or nil.
    public static func tool(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)", "/usr/local/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The size of `bytes` compressed by `tool args -c file` (zstd, xz); throws when the tool fails.
    public static func compressedSize(_ tool: String, _ args: [String], _ bytes: [UInt8]) throws -> Int {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("input.bin")
        try Data(bytes).write(to: input)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args + ["-c", input.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "TestSupport", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(tool) \(args) exited with \(p.terminationStatus)"])
        }
        return data.count
    }

    /// Runs the test venv's Python on `script` with `arguments`; returns stdout, throws on failure.
    public static func python(_ script: String, _ arguments: [String] = []) throws -> String {
        let p = Process()
        p.executableURL = root.appendingPathComponent(".venv/bin/python")
        p.arguments = ["-c", script] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            let how = p.terminationReason == .exit ? "exited with status \(p.terminationStatus)" : "was killed by signal \(p.terminationStatus)"
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "python \(how): " + String(decoding: errData, as: UTF8.self)])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
