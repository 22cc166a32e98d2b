import Foundation
import Testing
@testable import Kernel

/// What a received message must pass, as jupyter_client's `Session` holds it: the signature is
/// the exact lower-case hex digest, a signature seen before is a replay (in a bounded history),
/// and a message with an oversized frame is read only far enough to answer it.
struct WireSecurityTests {
    static func frames(_ signer: MessageSigner, code: String = "1 + 1") -> [[UInt8]] {
        var msg = WireMessage(type: "execute_request", content: ["code": code], parent: nil, session: "s")
        msg.identities = [Array("client".utf8)]
        return msg.frames(signer: signer)
    }

    @Test func onlyTheLowerCaseHexDigestVerifies() {
        let signer = MessageSigner(key: "key")
        let parts = [Array("a".utf8), Array("b".utf8)]
        let sig = signer.signature(parts)
        #expect(signer.verify(Array(sig.utf8), parts))
        #expect(!signer.verify(Array(sig.uppercased().utf8), parts), "upper case is not what jupyter_client compares")
        #expect(!signer.verify(Array((sig + "\n").utf8), parts))
        #expect(!signer.verify(Array(sig.dropLast().utf8), parts))
        #expect(!signer.verify([], parts))
        #expect(MessageSigner.constantTimeEqual([1, 2, 3], [1, 2, 3]) && !MessageSigner.constantTimeEqual([1, 2, 3], [1, 2, 4]))
    }

    @Test func aMessageParsesOnceThenIsAReplay() throws {
        let signer = MessageSigner(key: "secret")
        let frames = Self.frames(signer)
        _ = try WireMessage.parse(frames, signer: signer)
        do {
            _ = try WireMessage.parse(frames, signer: signer)
            Issue.record("the second copy must be refused")
        } catch let e as WireMessage.ParseError {
            #expect("\(e)".contains("duplicate signature"))
        }
        // A copy of the signer (another channel's) shares the history.
        let copy = signer
        #expect(throws: WireMessage.ParseError.self) { try WireMessage.parse(frames, signer: copy) }
        // A wrong signature is not recorded, so it cannot shadow the right one.
        let other = MessageSigner(key: "secret")
        var forged = Self.frames(other, code: "2")
        let good = forged
        forged[2] = Array(String(repeating: "0", count: 64).utf8)
        #expect(throws: WireMessage.ParseError.self) { try WireMessage.parse(forged, signer: other) }
        _ = try WireMessage.parse(good, signer: other)
        // Without a key nothing is signed, and nothing is remembered (as jupyter_client with no key).
        let open = MessageSigner(key: "")
        let unsigned = Self.frames(open)
        _ = try WireMessage.parse(unsigned, signer: open)
        _ = try WireMessage.parse(unsigned, signer: open)
        #expect(open.history.count == 0)
    }

    @Test func theHistoryIsBoundedAndCullsATenth() {
        let history = SignatureHistory(capacity: 100)
        for i in 0..<100 { #expect(history.insert(Array("sig\(i)".utf8))) }
        #expect(history.count == 100)
        #expect(!history.insert(Array("sig42".utf8)))
        #expect(history.insert(Array("sig100".utf8)))
        #expect(history.count == 91, "past the capacity a tenth (10 of 101) is forgotten")
        for i in 101..<1000 { _ = history.insert(Array("sig\(i)".utf8)) }
        #expect(history.count <= 100 && history.count >= 90)
        #expect(SignatureHistory.defaultCapacity == 65536)
        let none = SignatureHistory(capacity: 0)
        #expect(none.insert([1]) && none.insert([1]) && none.count == 0)
    }

    @Test func anOversizedFrameKeepsTheHeaderAndDropsTheRest() throws {
        let signer = MessageSigner(key: "secret")
        var frames = Self.frames(signer, code: "x")
        // Replace the content with one over the limit and sign it again.
        let content = Array(#"{"code": ""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: WireMessage.maxFrameBytes) + Array(#""}"#.utf8)
        let d = frames.firstIndex(of: WireMessage.delimiter)!
        frames[d + 5] = content
        frames[d + 1] = Array(signer.signature(Array(frames[(d + 2)...(d + 5)])).utf8)
        let msg = try WireMessage.parse(frames, signer: signer)
        #expect(msg.type == "execute_request" && msg.identities == [Array("client".utf8)])
        #expect(msg.content.isEmpty && msg.oversizedBytes == frames[(d + 2)...].reduce(0) { $0 + $1.count })
        #expect(WireMessage.transportFrameBytes > WireMessage.maxFrameBytes)
        // A forged one of that size is still refused on its signature.
        frames[d + 1] = Array(String(repeating: "0", count: 64).utf8)
        #expect(throws: WireMessage.ParseError.self) { try WireMessage.parse(frames, signer: signer) }
    }
}
