import Foundation
import Testing
@testable import Numerics

/// The memory check made before large allocations: the figures it reads and the refusal it gives.
@Suite struct MemoryBudgetTests {
    @Test func byteCountsParseWithSuffixes() {
        #expect(MemoryBudget.parseBytes("3000000") == 3_000_000)
        #expect(MemoryBudget.parseBytes("512M") == 512 * 1_048_576)
        #expect(MemoryBudget.parseBytes("1.5g") == 1_610_612_736)
        #expect(MemoryBudget.parseBytes("lots") == nil)
    }

    @Test func availableMemoryIsReadOnLinux() throws {
        #if os(Linux)
        let bytes = try #require(MemoryBudget.availableBytes())
        #expect(bytes > 0)
        #endif
    }

    @Test func anImpossibleRequestIsRefusedWithBothFigures() throws {
        let huge = Int(1) << 60
        do {
            try MemoryBudget.require(huge, for: "ppl on 'giant'", advice: "use arithmetic=\"llamacpp\"")
            Issue.record("a request for an exbibyte passed the memory check")
        } catch let error as MemoryBudgetError {
            #expect(error.needed == huge)
            #expect(error.description.contains("ppl on 'giant' needs about"))
            #expect(error.description.contains("available; nothing was started: use arithmetic=\"llamacpp\""))
        }
        try MemoryBudget.require(1024, for: "a kibibyte")
    }

    @Test func describedSizesReadAsPeopleWriteThem() {
        #expect(MemoryBudget.describe(27_487_790_694) == "25.6 GiB")
        #expect(MemoryBudget.describe(812 * 1_048_576) == "812 MiB")
    }
}
