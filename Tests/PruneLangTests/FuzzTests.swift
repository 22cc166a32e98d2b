import Foundation
import Testing
import Numerics
@testable import PruneLang

/// Bounded fuzzing with a fixed seed: random bytes, random token soup, mutations of the corpus
/// scripts and deep nesting. Nothing may crash or hang; every cell ends with a value, nothing,
/// or diagnostics that render; completion, inspection and completeness never fail.
struct FuzzTests {
    static let alphabet: [String] = [
        "x", "y", "xs", "W", "f", "1", "0", "2.5", "-1", "1e300", "nan", "inf", "\"s\"", "\"", "'", "(", ")", "[", "]",
        "{", "}", ",", ".", "..", ":", ";", "=", "==", "+", "-", "*", "/", "%", "^", "@", "|>", "?", "#", "\\", "\n", " ",
        "fn", "if", "else", "for", "in", "while", "break", "continue", "return", "true", "false", "none", "and",
        "or", "not", "svdvals", "randn", "eye", "len", "range", "drop_rows", "sort", "print", "help", "sum", "matrix",
        "map", "a.b", "r.x", "\\u{", "é", "\t", "0..3", "{a: 1}", "[1, 2]", "x[0]", "W[0:2, :]",
    ]

    /// A session with small limits so that random programs finish quickly.
    static func session() -> Interpreter {
        let i = Interpreter(output: { _ in })
        i.limits.maxSteps = 5_000
        i.limits.maxElements = 50_000
        i.limits.maxCallDepth = 200
        i.displayHandler = { _ in }
        return i
    }

    /// Runs one input through every entry point and checks the outcome's shape.
    static func exercise(_ interp: Interpreter, _ code: String, _ rng: inout SeededRandom) {
        let r = interp.run(cell: code, name: "fuzz")
        if !r.succeeded {
            for d in r.diagnostics {
                #expect(!d.message.isEmpty)
                #expect(!d.render().isEmpty)
            }
        } else if let d = r.display {
            #expect(d["text/plain"] != nil)
        }
        let n = code.unicodeScalars.count
        let cursor = n == 0 ? 0 : Int(rng.next() % UInt64(n + 1))
        _ = interp.isComplete(code)
        let c = interp.completions(code: code, cursor: cursor)
        #expect(c.start <= c.end && c.end <= n)
        _ = interp.inspect(code: code, cursor: cursor)
    }

    static func corpusCells() throws -> [String] {
        // Scripts that need the models stay out: mutations of them would load models and run
        // forward passes, which no step limit bounds.
        try GoldenCorpusTests.scripts().map { try String(contentsOf: $0, encoding: .utf8) }
            .filter { !$0.hasPrefix("# requires:") && !$0.contains("load(") }
            .flatMap { GoldenCorpusTests.cells($0).map(\.text) }
    }

    static func mutate(_ s: String, _ rng: inout SeededRandom) -> String {
        var u = Array(s.unicodeScalars)
        let edits = 1 + Int(rng.next() % 4)
        for _ in 0..<edits {
            let n = u.count
            let at = n == 0 ? 0 : Int(rng.next() % UInt64(n))
            switch rng.next() % 6 {
            case 0 where n > 0:   // delete a run
                let len = min(n - at, 1 + Int(rng.next() % 8))
                u.removeSubrange(at..<(at + len))
            case 1:               // insert a token
                let t = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                u.insert(contentsOf: t.unicodeScalars, at: at)
            case 2 where n > 1:   // duplicate a run
                let len = min(n - at, 1 + Int(rng.next() % 20))
                u.insert(contentsOf: Array(u[at..<(at + len)]), at: at)
            case 3 where n > 0:   // replace one character
                u[at] = Unicode.Scalar(UInt8(32 + rng.next() % 95))
            case 4 where n > 1:   // swap two characters
                let b = Int(rng.next() % UInt64(n))
                u.swapAt(at, b)
            default:              // insert a random byte
                u.insert(Unicode.Scalar(UInt8(rng.next() % 128)), at: at)
            }
        }
        return String(String.UnicodeScalarView(u))
    }

    @Test func randomBytesAndTokenSoup() {
        var rng = SeededRandom(seed: 20_251_123)
        let start = Date()
        Interpreter.onLargeStack {
            var interp = Self.session()
            for k in 0..<2_000 {
                if k % 200 == 0 { interp = Self.session() }
                let code: String
                if k % 2 == 0 {
                    let bytes = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    code = String(decoding: bytes, as: UTF8.self)
                } else {
                    code = (0..<Int(rng.next() % 40)).map { _ in Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))] }.joined(separator: rng.next() % 3 == 0 ? " " : "")
                }
                Self.exercise(interp, code, &rng)
            }
        }
        #expect(Date().timeIntervalSince(start) < 60)
    }

    @Test func mutationsOfTheCorpus() throws {
        let cells = try Self.corpusCells()
        #expect(cells.count > 100)
        guard !cells.isEmpty else { return }
        var rng = SeededRandom(seed: 7)
        let start = Date()
        Interpreter.onLargeStack {
            var interp = Self.session()
            for k in 0..<2_000 {
                if k % 100 == 0 { interp = Self.session() }
                let base = cells[Int(rng.next() % UInt64(cells.count))]
                Self.exercise(interp, Self.mutate(base, &rng), &rng)
            }
        }
        #expect(Date().timeIntervalSince(start) < 60)
    }

    @Test func deepNestingAndLongChains() {
        var rng = SeededRandom(seed: 3)
        Interpreter.onLargeStack {
            let interp = Self.session()
            for depth in [10, 100, 199, 200, 201, 1_000, 10_000, 100_000] {
                for (open, close) in [("(", ")"), ("[", "]"), ("{a: ", "}"), ("f(", ")"), ("fn() { ", " }"), ("if true { ", " }"),
                                      ("-", ""), ("not ", ""), ("x[", "]"), ("2 ^ ", "")] {
                    let code = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                    Self.exercise(interp, code, &rng)
                    Self.exercise(interp, String(repeating: open, count: depth), &rng)   // unclosed
                }
                Self.exercise(interp, Array(repeating: "1", count: depth).joined(separator: " + "), &rng)
                Self.exercise(interp, "x = 1\n" + String(repeating: ".T", count: depth), &rng)
                Self.exercise(interp, "x" + String(repeating: "[0]", count: depth), &rng)
                Self.exercise(interp, String(repeating: "x |> ", count: depth) + "f", &rng)
            }
            // Deep values built at run time stay printable and comparable.
            Self.exercise(interp, "v = [1]\nfor i in 0..3000 { v = [v] }\nv", &rng)
            Self.exercise(interp, "v == v", &rng)
            Self.exercise(interp, "r = {}\nfor i in 0..3000 { r = {r: r} }\nstr(r)", &rng)
        }
    }
}
