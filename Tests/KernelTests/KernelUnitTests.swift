import Foundation
import Testing
@testable import Kernel

/// The kernel's pieces that need no sockets: connection files, signatures, the wire format,
/// history and its glob search, header dates.
struct KernelUnitTests {
    @Test func connectionFileParsesAndNamesBadFields() throws {
        let json = #"{"transport": "ipc", "ip": "/tmp/k", "shell_port": 1, "control_port": 2, "stdin_port": 3, "iopub_port": 4, "hb_port": 5, "key": "abc", "signature_scheme": "hmac-sha256"}"#
        let info = try ConnectionInfo(json: Data(json.utf8))
        #expect(info.endpoint(info.shellPort) == "ipc:///tmp/k-1")
        let tcp = try ConnectionInfo(json: Data(json.replacingOccurrences(of: "\"ipc\", \"ip\": \"/tmp/k\"", with: "\"tcp\", \"ip\": \"127.0.0.1\"").utf8))
        #expect(tcp.endpoint(tcp.hbPort) == "tcp://127.0.0.1:5")
        #expect(throws: KernelError.self) { try ConnectionInfo(json: Data(json.replacingOccurrences(of: "\"hb_port\": 5", with: "\"hb_port\": \"x\"").utf8)) }
        do {
            _ = try ConnectionInfo(json: Data(json.replacingOccurrences(of: "hmac-sha256", with: "hmac-md5").utf8))
            Issue.record("an unsupported scheme must fail")
        } catch let e as KernelError {
            #expect(e.description.contains("hmac-md5"))
        }
    }

    @Test func signaturesMatchPythonsHMAC() {
        // hmac.new(b"key", b"".join([b"a", b"b"]), hashlib.sha256).hexdigest()
        let signer = MessageSigner(key: "key")
        let sig = signer.signature([Array("a".utf8), Array("b".utf8)])
        #expect(sig == "5c1c0c948cbef5ad7d191e46e5901fa0395f85f694fa4633f665a1a637017b65")
        #expect(signer.verify(Array(sig.utf8), [Array("a".utf8), Array("b".utf8)]))
        #expect(!signer.verify(Array(sig.utf8), [Array("a".utf8), Array("c".utf8)]))
        #expect(!signer.verify(Array("zz".utf8), [Array("a".utf8), Array("b".utf8)]))
        #expect(MessageSigner(key: "").verify([], []))
    }

    /// RFC 4231's test cases 2 and 6 (a key longer than SHA-256's block, which HMAC hashes first) and
    /// an empty message, against Python's `hmac` (the values it prints for the same inputs).
    @Test func hmacMatchesRFC4231() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(MessageSigner.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(MessageSigner.hmacSHA256(key: [UInt8](repeating: 0xAA, count: 131),
                                             Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(hex(MessageSigner.hmacSHA256(key: Array("key".utf8), [])) == "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0")
    }

    @Test func wireMessagesRoundTripAndRejectTampering() throws {
        let signer = MessageSigner(key: "secret")
        var msg = WireMessage(type: "execute_request", content: ["code": "1 + 1"], parent: nil, session: "s")
        msg.identities = [Array("client".utf8)]
        let frames = msg.frames(signer: signer)
        let back = try WireMessage.parse(frames, signer: signer)
        #expect(back.type == "execute_request" && back.content["code"] as? String == "1 + 1")
        #expect(back.identities == [Array("client".utf8)])
        var tampered = frames
        tampered[tampered.count - 1] = Array(#"{"code": "2"}"#.utf8)
        #expect(throws: WireMessage.ParseError.self) { try WireMessage.parse(tampered, signer: signer) }
        #expect(throws: WireMessage.ParseError.self) { try WireMessage.parse([Array("x".utf8)], signer: signer) }
        #expect(throws: WireMessage.ParseError.self) { try WireMessage.parse(Array(frames.prefix(4)), signer: signer) }
    }

    @Test func historyKeepsSessionsAndSearchesByGlob() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kh-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = HistoryStore(path: path)
        #expect(first.session == 1)
        first.append(line: 1, input: "6 * 7", output: "42")
        first.append(line: 2, input: "x = 1", output: nil)
        let second = HistoryStore(path: path)
        #expect(second.session == 2 && second.entries.count == 2)
        second.append(line: 1, input: "6 * 7", output: "42")
        #expect(second.tail(1).map(\.session) == [2])
        #expect(second.range(session: 1, start: 2, stop: 3).map(\.input) == ["x = 1"])
        #expect(second.range(session: 0, start: 1, stop: nil).count == 1)
        #expect(second.search(pattern: "6*7", n: nil, unique: false).count == 2)
        #expect(second.search(pattern: "6*7", n: nil, unique: true).count == 1)
        #expect(HistoryStore.glob("a?c[0-9]*", matches: "abc7zz"))
        #expect(!HistoryStore.glob("a?c[0-9]*", matches: "abcx"))
        #expect(HistoryStore.glob("*", matches: ""))
    }

    @Test func headerDatesParseWithZones() throws {
        let z = try #require(KernelServer.parseDate("2026-11-23T07:05:16.500000Z"))
        let plus = try #require(KernelServer.parseDate("2026-11-23T08:05:16.500+01:00"))
        #expect(abs(z.timeIntervalSince(plus)) < 1e-6)
        #expect(KernelServer.parseDate("yesterday") == nil)
    }
}
