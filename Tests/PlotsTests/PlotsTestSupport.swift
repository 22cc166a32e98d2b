import Foundation
import Testing
import TestHelpers

/// Paths the Plots tests share: the golden files folder and a scratch folder.
enum PlotsTestSupport {
    /// Tests/PlotsTests/golden: the expected text and SVG renderings.
    static let goldenFolder = TestSupport.root.appendingPathComponent("Tests/PlotsTests/golden")

    /// A scratch folder for this test run (SVG and PNG files), created on first use.
    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("prunelang-plots-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()
}

/// Compares `text` with the golden file `Tests/PlotsTests/golden/<name>.<ext>` (ext "txt" unless given).
///
/// To regenerate the golden files after a deliberate change to the renderers, run the tests with
/// `PRUNELANG_UPDATE_GOLDEN=1` in the environment, e.g.
///
///     PRUNELANG_UPDATE_GOLDEN=1 swift test -c release -Xswiftc -enable-testing --skip-build \
///         --scratch-path .build-plots --filter PlotsTests
///
/// then look at the diff (`git diff Tests/PlotsTests/golden`) before committing it.
func expectGolden(_ text: String, _ name: String, ext: String = "txt", sourceLocation: SourceLocation = #_sourceLocation) {
    let file = name + "." + ext
    let url = PlotsTestSupport.goldenFolder.appendingPathComponent(file)
    let contents = text + "\n"
    if ProcessInfo.processInfo.environment["PRUNELANG_UPDATE_GOLDEN"] == "1" {
        try? FileManager.default.createDirectory(at: PlotsTestSupport.goldenFolder, withIntermediateDirectories: true)
        try? contents.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        Issue.record("missing golden file \(file) (run with PRUNELANG_UPDATE_GOLDEN=1 to create it)",
                     sourceLocation: sourceLocation)
        return
    }
    if expected != contents {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = contents.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
        Issue.record("""
            \(file) differs at line \(line + 1) (PRUNELANG_UPDATE_GOLDEN=1 rewrites it)
            expected: \(line < e.count ? String(e[line]) : "<end>")
            actual:   \(line < a.count ? String(a[line]) : "<end>")
            --- actual output ---
            \(text)
            """, sourceLocation: sourceLocation)
    }
}

/// Reproducible uniform numbers in [0, 1): a 64-bit LCG (Knuth's MMIX constants) whose top 53 bits
/// become the fraction, so Python can produce exactly the same values for reference results:
///
///     s = (s * 6364136223846793005 + 1442695040888963407) % 2**64; u = (s >> 11) / 2**53
struct TestLCG {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / 9007199254740992.0
    }

    /// `count` values, each the sum of three uniforms (a bell-shaped sample on [0, 3)).
    mutating func bell(_ count: Int) -> [Double] {
        (0..<count).map { _ in
            let a = next(), b = next(), c = next()
            return a + b + c
        }
    }
}
