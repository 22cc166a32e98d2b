import Foundation
import Models
import Numerics

// The Swift side of `bench/run`: reads the inputs that the Python driver wrote (raw little-endian
// arrays), times PruneLang's routines on exactly those inputs, writes the results beside them for
// the driver to check against the reference, and prints one JSON object per benchmark.
// Usage: prunelang-bench numerics DIR [BENCH...] | prunelang-bench weights GGUF [REPEATS]
//        prunelang-bench open-lazily MODEL [BLOCK]
//        prunelang-bench inference GGUF TOKENS.json PROMPT DECODE REPEATS
//        prunelang-bench mlp DIGITS.csv SIZES BATCH EPOCHS

/// Best-of-`repeats` wall time of `body` in seconds.
func time(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return best
}

func readArray<T>(_ url: URL, as: T.Type) throws -> [T] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}

func write<T>(_ values: [T], to url: URL) throws {
    try values.withUnsafeBytes { try Data($0).write(to: url) }
}

func report(_ name: String, _ seconds: Double, _ extra: [String: Any] = [:]) {
    var obj: [String: Any] = ["bench": name, "ours_s": seconds]
    obj.merge(extra) { a, _ in a }
    let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

struct Shape: Decodable { let count: Int; let rows: Int; let cols: Int }
struct Manifest: Decodable {
    let repeats: Int
    let svd_small: Shape
    let svd_big: Shape
    let gemm_n: Int
    let samples: Int
}

func runNumerics(_ dir: URL, only: Set<String>?) throws {
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
    func wanted(_ name: String) -> Bool { only?.contains(name) ?? true }

    if wanted("svdvals_1536x576_x30") {
        let s = manifest.svd_small
        let flat = try readArray(dir.appendingPathComponent("svd_small.f32"), as: Float.self)
        let per = s.rows * s.cols
        let mats = try (0..<s.count).map { try Matrix(rows: s.rows, cols: s.cols, data: Array(flat[($0 * per)..<(($0 + 1) * per)])) }
        var out = [Float]()
        let t = try time(repeats: manifest.repeats) {
            out = []
            for m in mats { out += try singularValues(m) }
        }
        try write(out, to: dir.appendingPathComponent("ours_svd_small.f32"))
        report("svdvals_1536x576_x30", t)
    }
    if wanted("svdvals_11008x4096") {
        let s = manifest.svd_big
        let m = try Matrix(rows: s.rows, cols: s.cols, data: readArray(dir.appendingPathComponent("svd_big.f32"), as: Float.self))
        var out = [Float]()
        let t = try time(repeats: 1) { out = try singularValues(m) }
        try write(out, to: dir.appendingPathComponent("ours_svd_big.f32"))
        report("svdvals_11008x4096", t)
    }
    if wanted("gemm_1024") {
        let n = manifest.gemm_n
        let a = try Matrix(rows: n, cols: n, data: readArray(dir.appendingPathComponent("gemm_a.f32"), as: Float.self))
        let b = try Matrix(rows: n, cols: n, data: readArray(dir.appendingPathComponent("gemm_b.f32"), as: Float.self))
        var c = Matrix(rows: 0, cols: 0)
        let t = try time(repeats: manifest.repeats * 10) { c = try matmul(a, b) }
        try write(c.data, to: dir.appendingPathComponent("ours_gemm.f32"))
        report("gemm_1024", t)
    }
    try runStatistics(dir, manifest: manifest, wanted: wanted)
}

let args = CommandLine.arguments
guard args.count >= 3, ["numerics", "weights", "open-lazily", "inference", "prunenet", "zeroshot", "mlp", "training", "sketch"].contains(args[1]) || (args.count >= 2 && args[1] == "sketch") else {
    FileHandle.standardError.write("usage: prunelang-bench numerics DIR [BENCH...] | prunelang-bench weights GGUF [REPEATS] | prunelang-bench open-lazily MODEL [BLOCK] | prunelang-bench inference GGUF TOKENS.json PROMPT DECODE REPEATS [llamacpp|float32] | prunelang-bench prunenet GGUF EPISODES [RATIO] | prunelang-bench zeroshot GGUF TASK LIMIT BATCH... | prunelang-bench mlp DIGITS.csv SIZES BATCH EPOCHS | prunelang-bench training GGUF SEQ BATCH LORA STEPS\n".data(using: .utf8)!)
    exit(2)
}
do {
    if args[1] == "sketch" {
        try runSketch(Array(args.dropFirst(2)))
    } else if args[1] == "inference", args.count >= 7 {
        let ids = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: args[3]))) as? [Int] ?? []
        try runInference(args[2], tokens: ids.map { Int32($0) }, promptLength: Int(args[4]) ?? 512,
                         decode: Int(args[5]) ?? 64, repeats: Int(args[6]) ?? 3,
                         arithmetic: args.count > 7 ? ForwardArithmetic(rawValue: args[7] == "llamacpp" ? "llamaCpp" : args[7]) : nil)
    } else if args[1] == "zeroshot", args.count >= 5 {
        try runZeroShot(args[2], task: args[3], limit: Int(args[4]) ?? 50, batchSizes: args.count > 5 ? args[5...].compactMap { Int($0) } : [1, 8])
    } else if args[1] == "mlp", args.count >= 6 {
        try runMLP(args[2], sizes: args[3].split(separator: ",").compactMap { Int($0) }, batch: Int(args[4]) ?? 64, epochs: Int(args[5]) ?? 5)
    } else if args[1] == "training", args.count >= 7 {
        try runLlamaTraining(args[2], sequence: Int(args[3]) ?? 256, batch: Int(args[4]) ?? 4, lora: Int(args[5]) ?? 0, steps: Int(args[6]) ?? 3)
    } else if args[1] == "prunenet" {
        try runPruneNet(args[2], episodes: args.count > 3 ? Int(args[3]) ?? 20 : 20, ratio: args.count > 4 ? Double(args[4]) ?? 0.3 : 0.3)
    } else if args[1] == "open-lazily" {
        try runOpenLazily(args[2], block: args.count > 3 ? Int(args[3]) ?? 0 : 0)
    } else if args[1] == "weights" {
        try runWeights(args[2], repeats: args.count > 3 ? Int(args[3]) ?? 3 : 3)
    } else {
        try runNumerics(URL(fileURLWithPath: args[2]), only: args.count > 3 ? Set(args[3...]) : nil)
    }
} catch {
    FileHandle.standardError.write("prunelang-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
