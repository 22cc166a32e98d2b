import Foundation
import Testing
import Models

/// A 7B model opens lazily: a synthetic GGUF with LLaMA-2-7B's shapes (random Q4_0 weights, ~3.8 GB,
/// made on demand by Tests/fixtures/make_synthetic_llama7b.py with the `gguf` package) opens in
/// under a second, and reading one block's FFN matrices keeps the process under 2 GB resident.
/// Measured in a separate process (`prunelang-bench open-lazily`) so other tests' memory does not count.
struct Synthetic7BTests {
    static let path = TestSupport.models.appendingPathComponent("synthetic/llama2-7b-q4_0.gguf").path

    /// `prunelang-bench`, which SwiftPM builds beside the test runner.
    static func benchBinary() -> String? {
        let fm = FileManager.default
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("prunelang-bench").path
            if fm.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    @Test func sevenBillionParametersOpenInUnderASecondAndStaySmall() throws {
        if !FileManager.default.fileExists(atPath: Self.path) {
            let script = TestSupport.root.appendingPathComponent("Tests/fixtures/make_synthetic_llama7b.py").path
            _ = try TestSupport.python("import runpy, sys; sys.argv = [sys.argv[1], '--out', sys.argv[2]]; runpy.run_path(sys.argv[0], run_name='__main__')",
                                       [script, Self.path])
        }
        let binary = try #require(Self.benchBinary(), "prunelang-bench not built next to the test runner")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["open-lazily", Self.path, "17"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let open = try #require(obj["ours_s"] as? Double)
        let peak = try #require(obj["peak_rss_mib"] as? Double)
        #expect((obj["parameters"] as? Int) == 6_738_415_616)
        #expect((obj["ffn_values"] as? Int) == 3 * 11008 * 4096)
        #expect(open < 1.0, "opening took \(open) s")
        #expect(peak > 0 && peak < 2048, "peak resident memory \(peak) MiB")
    }
}
