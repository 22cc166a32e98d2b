import Foundation
import Testing
import Numerics
import Models

/// Bounded, deterministic fuzzing of the GGUF header parser: mutate the header region (magic,
/// counts, metadata, tensor infos) of a real file, truncate it at random points, and check that
/// opening either succeeds or throws a `GGUFError` / `MappedFileError`: it never crashes, hangs or
/// allocates absurd amounts.
struct GGUFFuzzTests {
    /// The outcome counts of one fuzz run.
    struct Tally { var opened = 0, refused = 0, kinds: [GGUFError.Kind: Int] = [:] }

    /// Runs `iterations` mutations of the header of the GGUF at `path` with seed `seed`.
    static func fuzz(path: String, iterations: Int, seed: UInt64) throws -> Tally {
        let good = try GGUFFile(path: path)
        let fileSize = good.fileSize
        let header = try Array(good.file.bytes(at: 0, count: min(good.dataOffset, fileSize)))
        let infoStart = good.tensors.first?.infoOffset ?? header.count / 2
        let scratch = GGUFFixtures.temporaryPath("fuzz")
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        var rng = SeededRandom(seed: seed)
        func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }
        /// A mutation site, biased to the fixed header, the start of the metadata and the tensor infos.
        func position(width: Int) -> Int {
            let limit = max(header.count - width, 1)
            switch below(10) {
            case 0..<4: return min(below(1024), limit - 1)
            case 4..<8: return min(infoStart + below(max(header.count - infoStart, 1)), limit - 1)
            default: return below(limit)
            }
        }
        let specials64: [UInt64] = [0, 1, 2, 5, 255, 1 << 31, 1 << 32, 1 << 40, 1 << 62, 1 << 63,
                                    UInt64.max, UInt64.max - 1, UInt64(fileSize), UInt64(fileSize + 1)]
        let specials32: [UInt32] = [0, 1, 4, 5, 9, 12, 13, 30, 31, 42, 255, 0xFFFF_FFFF, 0x8000_0000]

        var tally = Tally()
        for _ in 0..<iterations {
            var bytes = header
            for _ in 0..<(1 + below(6)) {
                switch below(5) {
                case 0:
                    let p = position(width: 1)
                    bytes[p] ^= UInt8(1) << UInt8(below(8))
                case 1:
                    bytes[position(width: 1)] = UInt8(truncatingIfNeeded: rng.next())
                case 2:
                    bytes.put(specials64[below(specials64.count)], at: position(width: 8))
                case 3:
                    bytes.put(specials32[below(specials32.count)], at: position(width: 4))
                default:
                    let p = position(width: 4)
                    bytes.put(UInt32(truncatingIfNeeded: rng.next()), at: p)
                }
            }
            let truncateAt: Int? = below(5) == 0 ? below(fileSize + 1) : nil
            if let cut = truncateAt, cut < bytes.count { bytes.removeSubrange(cut...) }
            try Data(bytes).write(to: URL(fileURLWithPath: scratch))
            // Restore the full length (sparse: the tensor data reads as zeros) unless truncated.
            let length = truncateAt ?? fileSize
            if length > bytes.count { #expect(truncate(scratch, off_t(length)) == 0) }

            do {
                let file = try GGUFFile(path: scratch)
                tally.opened += 1
                // Dequantise one small tensor of what opened: the checked offsets must hold.
                if let info = file.tensors.filter({ $0.elementCount <= 1 << 20 && $0.type.canDequantize })
                    .min(by: { $0.elementCount < $1.elementCount }) {
                    #expect(try file.dequantize(info).count == info.elementCount)
                }
            } catch let error as GGUFError {
                tally.refused += 1
                tally.kinds[error.kind, default: 0] += 1
                #expect(!error.field.isEmpty && !error.detail.isEmpty)
            } catch is MappedFileError {
                tally.refused += 1
            } catch {
                Issue.record("unexpected error type \(type(of: error)): \(error)")
            }
        }
        return tally
    }

    @Test func fuzzSyntheticHeader() throws {
        let tally = try Self.fuzz(path: GGUFFixtures.syntheticPath, iterations: 600, seed: 7)
        #expect(tally.opened + tally.refused == 600)
        #expect(tally.refused > 100)
        #expect(tally.kinds.count >= 6, "error kinds seen: \(tally.kinds)")
    }

    @Test(.enabled(if: GGUFFixtures.hasSmolLM, "SmolLM2 GGUF not found; run scripts/fetch-models"))
    func fuzzRealModelHeader() throws {
        let tally = try Self.fuzz(path: GGUFFixtures.smolLMPath, iterations: 300, seed: 2025)
        #expect(tally.opened + tally.refused == 300)
        #expect(tally.refused > 50)
        print("GGUF fuzz (SmolLM2 header): \(tally.opened) opened, \(tally.refused) refused, kinds \(tally.kinds)")
    }
}
