// Entropy coder throughput on a file of byte symbols: Huffman and rANS encode and decode, MB/s of
// symbols (one byte each), the coded size against the entropy. Built by bench/coding/run with
// swiftc -O together with Sources/Numerics/Coding/{Entropy,Huffman,RANS}.swift.
import Foundation

let path = CommandLine.arguments[1]
let data = try Data(contentsOf: URL(fileURLWithPath: path))
let symbols = data.map { Int($0) }
var counts = [Int](repeating: 0, count: 256)
for s in symbols { counts[s] += 1 }
let n = Double(symbols.count)
let h = shannonEntropy(counts: counts)
print(String(format: "symbols %d, entropy %.4f bits/symbol, ideal %.0f bytes", symbols.count, h, h * n / 8))

func time(_ f: () throws -> Void) rethrows -> Double {
    let t = DispatchTime.now().uptimeNanoseconds
    try f()
    return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
}

func report(_ name: String, encode: () throws -> [UInt8], decode: ([UInt8]) throws -> [Int], table: Int) throws {
    var bytes: [UInt8] = []
    var te = Double.infinity, td = Double.infinity
    for _ in 0..<3 {
        te = min(te, try time { bytes = try encode() })
        var back: [Int] = []
        td = min(td, try time { back = try decode(bytes) })
        precondition(back == symbols, "\(name) round trip failed")
    }
    print(String(format: "%@: %d bytes + table %d (%.3f%% over entropy), encode %.1f MB/s, decode %.1f MB/s",
                 name, bytes.count, table, (Double(bytes.count) / (h * n / 8) - 1) * 100, n / te / 1e6, n / td / 1e6))
}

let huff = try HuffmanCode(counts: counts)
try report("huffman", encode: { try huff.encode(symbols) }, decode: { try huff.decode($0) }, table: huff.tableBytes)
let rans = try RANSCode(counts: counts)
try report("rans", encode: { try rans.encode(symbols) }, decode: { try rans.decode($0) }, table: rans.tableBytes)
