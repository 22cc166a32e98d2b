import Foundation
import Models

/// Times opening a GGUF file and dequantising every tensor in it (best of `repeats`), and
/// reports the checksum-free totals the driver compares: tensor count and value count.
func runWeights(_ path: String, repeats: Int) throws {
    var tensors = 0, values = 0
    let t = try time(repeats: repeats) {
        let file = try GGUFFile(path: path)
        tensors = 0; values = 0
        for info in file.tensors {
            values += try file.dequantize(info).count
            tensors += 1
        }
    }
    report("gguf_open_dequantize_all", t, ["tensors": tensors, "values": values])
}
