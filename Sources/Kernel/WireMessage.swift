import Foundation

/// A JSON object as the messages carry it.
public typealias JSONObject = [String: Any]

/// One Jupyter message: the routing identities, header, parent header, metadata, content and
/// binary buffers (wire format of messaging protocol 5.3).
struct WireMessage {
    /// ROUTER identities of the sender (replies go back through them).
    var identities: [[UInt8]] = []
    var header: JSONObject
    var parentHeader: JSONObject = [:]
    var metadata: JSONObject = [:]
    var content: JSONObject
    var buffers: [[UInt8]] = []
    /// Set when a frame after the header was over `maxFrameBytes`: the message's size in bytes.
    /// Its header (and parent header) are read, so the kernel can answer with an error, but its
    /// metadata, content and buffers are left empty and it is never run.
    var oversizedBytes: Int?

    /// The delimiter between identities and the signed part.
    static let delimiter = Array("<IDS|MSG>".utf8)
    /// The protocol version the kernel speaks.
    static let protocolVersion = "5.3"
    /// Largest frame the kernel reads (64 MiB). A correctly signed request with a larger content
    /// (or metadata, parent header, buffer) frame is answered with an error and not run; a larger
    /// header or identity frame is dropped.
    static let maxFrameBytes = 64 << 20
    /// Largest frame libzmq receives at all (ZMQ_MAXMSGSIZE, 256 MiB): a bigger one makes libzmq
    /// drop the sender's connection before the kernel sees a byte, so nothing can answer it. It
    /// bounds the memory one message takes (the frame, and its copy while it is read).
    static let transportFrameBytes = 256 << 20

    /// The message type from the header ("" when absent).
    var type: String { header["msg_type"] as? String ?? "" }
    /// The message id from the header.
    var id: String { header["msg_id"] as? String ?? "" }

    /// A new message of `type`, answering `parent` (its header becomes the parent header).
    init(type: String, content: JSONObject, parent: WireMessage?, session: String, metadata: JSONObject = [:]) {
        header = [
            "msg_id": UUID().uuidString.lowercased(),
            "session": session,
            "username": parent?.header["username"] as? String ?? "prunelang",
            "date": Self.timestamp(),
            "msg_type": type,
            "version": Self.protocolVersion,
        ]
        parentHeader = parent?.header ?? [:]
        self.metadata = metadata
        self.content = content
        identities = parent?.identities ?? []
    }

    /// A message read off the wire: fields already checked.
    private init(identities: [[UInt8]], header: JSONObject, parentHeader: JSONObject, metadata: JSONObject,
                 content: JSONObject, buffers: [[UInt8]]) {
        self.identities = identities
        self.header = header
        self.parentHeader = parentHeader
        self.metadata = metadata
        self.content = content
        self.buffers = buffers
    }

    /// Why a received message was rejected.
    enum ParseError: Error, CustomStringConvertible {
        case noDelimiter, tooFewFrames(Int), badSignature, duplicateSignature, badJSON(String), tooLarge(Int)
        var description: String {
            switch self {
            case .noDelimiter: return "no <IDS|MSG> delimiter"
            case .tooFewFrames(let n): return "\(n) frames after the delimiter, need at least 5"
            case .badSignature: return "missing or wrong signature"
            case .duplicateSignature: return "duplicate signature (the same signed message was already received: a replay)"
            case .badJSON(let part): return "\(part) is not a JSON object"
            case .tooLarge(let n): return "a frame of \(n) bytes (limit \(WireMessage.maxFrameBytes))"
            }
        }
    }

    /// Parses and verifies frames received on a ROUTER socket: the signature must be right and
    /// not seen before (jupyter_client's replay check). A message whose frames after the header
    /// are too large comes back with `oversizedBytes` set and no content.
    static func parse(_ frames: [[UInt8]], signer: MessageSigner) throws -> WireMessage {
        guard let d = frames.firstIndex(of: delimiter) else {
            if let big = frames.first(where: { $0.count > maxFrameBytes }) { throw ParseError.tooLarge(big.count) }
            throw ParseError.noDelimiter
        }
        if let big = frames[..<d].first(where: { $0.count > maxFrameBytes }) { throw ParseError.tooLarge(big.count) }
        let rest = Array(frames[(d + 1)...])
        guard rest.count >= 5 else { throw ParseError.tooFewFrames(rest.count) }
        let signed = Array(rest[1...4])
        guard signer.verify(rest[0], signed) else { throw ParseError.badSignature }
        if signer.isSigning, !signer.history.insert(rest[0]) { throw ParseError.duplicateSignature }
        func object(_ bytes: [UInt8], _ name: String) throws -> JSONObject {
            guard let o = try? JSONSerialization.jsonObject(with: Data(bytes)), let d = o as? JSONObject else {
                throw ParseError.badJSON(name)
            }
            return d
        }
        if signed[0].count > maxFrameBytes { throw ParseError.tooLarge(signed[0].count) }
        let header = try object(signed[0], "header")
        guard header["msg_type"] is String, header["msg_id"] is String else { throw ParseError.badJSON("header (msg_type, msg_id)") }
        if rest.dropFirst(2).contains(where: { $0.count > maxFrameBytes }) {
            var msg = WireMessage(identities: Array(frames[..<d]), header: header,
                                  parentHeader: signed[1].count > maxFrameBytes ? [:] : (try? object(signed[1], "parent_header")) ?? [:],
                                  metadata: [:], content: [:], buffers: [])
            msg.oversizedBytes = rest.dropFirst().reduce(0) { $0 + $1.count }
            return msg
        }
        return WireMessage(identities: Array(frames[..<d]), header: header,
                           parentHeader: try object(signed[1], "parent_header"),
                           metadata: try object(signed[2], "metadata"),
                           content: try object(signed[3], "content"),
                           buffers: Array(rest.dropFirst(5)))
    }

    /// The frames to send: identities, delimiter, signature, the four JSON parts, buffers.
    func frames(signer: MessageSigner) -> [[UInt8]] {
        let parts = [header, parentHeader, metadata, content].map(Self.encode)
        return identities + [Self.delimiter, Array(signer.signature(parts).utf8)] + parts + buffers
    }

    /// JSON bytes of an object (values that JSON cannot hold become their description).
    static func encode(_ object: JSONObject) -> [UInt8] {
        if let data = try? JSONSerialization.data(withJSONObject: object, options: []) { return Array(data) }
        return Array("{}".utf8)
    }

    /// Now in ISO 8601 with microseconds and a zone, as the protocol wants dates.
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(tv.tv_usec))
    }
}
