import Models
import Numerics
import Plots

extension BuiltinRegistry {
    /// `compressed_size(m, stored=true)`: every weight matrix of `model` coded as its GGUF file
    /// stores it (`StoredBlockCoding`), a row per tensor and the totals.
    static func storedCoding(_ a: Arguments, _ model: Model) throws -> Value {
        let places = try weightPlaces(model, blocks: a)
        var rows: [[Table.Cell]] = []
        var weights = 0, stored = 0, coded = 0
        for (k, place) in places.enumerated() {
            try a.progress("compressed_size", done: k, total: places.count)
            let t = model.tensors[place]!
            guard case let .gguf(file, info) = t.storage, t.rowOrder == nil else {
                throw a.fail(argument: "m", "\(t.name) is not stored in a GGUF file as it is (pruned or changed in memory): save the model as GGUF and load it to code its blocks")
            }
            let raw = try file.rawBytes(of: info)
            let coding = try coding(a, "m") { try raw.withUnsafeBytes { try StoredBlockCoding($0, type: info.type) } }
            let bits = { (b: Int) -> Double in Double(b) * 8 / Double(max(1, t.elementCount)) }
            rows.append([.text(t.name), .text(info.type.name), .integer(t.elementCount), .integer(coding.storedBytes), .integer(coding.codedBytes),
                         .number(bits(coding.storedBytes)), .number(bits(coding.codedBytes))])
            weights += t.elementCount; stored += coding.storedBytes; coded += coding.codedBytes
        }
        let bpw = { (b: Int) -> Double in weights == 0 ? 0 : Double(b) * 8 / Double(weights) }
        let table = Table(
            title: "stored blocks, entropy-coded field by field",
            columns: [Table.Column("tensor", alignment: .left), Table.Column("type", alignment: .left), Table.Column("weights", numberStyle: .grouped),
                      Table.Column("stored", numberStyle: .grouped), Table.Column("coded", numberStyle: .grouped),
                      Table.Column("stored bits/weight", numberStyle: .fixed(3)), Table.Column("coded bits/weight", numberStyle: .fixed(3))],
            rows: rows,
            footer: [.text("total"), .empty, .integer(weights), .integer(stored), .integer(coded), .number(bpw(stored)), .number(bpw(coded))])
        return .record(Record([
            ("table", .object(TableObject(table))), ("weights", .number(Double(weights))),
            ("stored_bytes", .number(Double(stored))), ("coded_bytes", .number(Double(coded))),
            ("bits_per_weight", .record(Record([("stored", .number(bpw(stored))), ("coded", .number(bpw(coded)))]))),
        ]))
    }
}
