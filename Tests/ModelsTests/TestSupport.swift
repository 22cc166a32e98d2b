import Foundation

/// Paths and reference helpers shared by the Models tests.
enum TestSupport {
    /// The repository root, found from this source file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// The models folder (`PRUNELANG_MODELS`, default `./models`), filled by scripts/fetch-models.
    static let models = ProcessInfo.processInfo.environment["PRUNELANG_MODELS"].map { URL(fileURLWithPath: $0) }
        ?? root.appendingPathComponent("models")
    /// The Models fixtures folder.
    static let fixtures = root.appendingPathComponent("Tests/fixtures/models")
    /// MiniLM-L6's Hugging Face config.
    static let minilmConfig = models.appendingPathComponent("minilm-l6/config.json")
    /// MiniLM-L6's safetensors file.
    static let minilmWeights = models.appendingPathComponent("minilm-l6/model.safetensors")
    /// Whether MiniLM has been fetched.
    static let haveMiniLM = FileManager.default.fileExists(atPath: minilmWeights.path)

    /// Σ bits(xᵢ)·(2i + 1) mod 2⁶⁴: a position-sensitive, bit-exact checksum of Float values,
    /// defined identically in the fixture scripts.
    static func checksum(_ values: [Float]) -> UInt64 {
        var sum: UInt64 = 0
        values.withUnsafeBufferPointer { buffer in
            for i in buffer.indices { sum &+= UInt64(buffer[i].bitPattern) &* (2 &* UInt64(i) &+ 1) }
        }
        return sum
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("prunelang-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs the test venv's Python on `script` with `arguments`; returns stdout, throws on failure.
    static func python(_ script: String, _ arguments: [String] = []) throws -> String {
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
        guard p.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: String(decoding: errData, as: UTF8.self)])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
