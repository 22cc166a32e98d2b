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

/// Resident and peak resident memory of this process in MiB (Linux /proc/self/status).
func residentMiB() -> (current: Double, peak: Double) {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return -1 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? -1) / 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

/// Opens a model through the model view, then reads one block's FFN matrices; reports the open
/// time and the memory held, so a test can check a 7B file opens lazily and stays small.
func runOpenLazily(_ path: String, block: Int) throws {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let model = try ModelLoader.load(path)
    let open = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let afterOpen = residentMiB()
    var values = 0
    let t1 = DispatchTime.now().uptimeNanoseconds
    for role in [TensorRole.ffnGate, .ffnUp, .ffnDown] where model.has(role, block: block) {
        values += try model.matrix(role, block: block).count
    }
    let read = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
    let after = residentMiB()
    report("open_lazily", open, ["parameters": model.parameterCount, "file_bytes": model.fileSize,
                                 "rss_after_open_mib": afterOpen.current, "ffn_values": values,
                                 "ffn_read_s": read, "peak_rss_mib": after.peak])
}
