import Foundation

/// What a Jupyter connection file says: where to bind each channel, the signing key and scheme,
/// and the CurveZMQ key pair when the client asks for encrypted traffic.
public struct ConnectionInfo: Equatable, Sendable {
    /// "tcp" or "ipc".
    public var transport: String
    /// The address to bind (tcp) or the path stem of the socket files (ipc).
    public var ip: String
    /// Ports (tcp) or file suffixes (ipc) of the five channels.
    public var shellPort, controlPort, stdinPort, iopubPort, hbPort: Int
    /// The HMAC key (may be empty: messages are then not signed).
    public var key: String
    /// "hmac-sha256" (the only scheme supported) or "" with an empty key.
    public var signatureScheme: String
    /// The server's CurveZMQ secret key (Z85, 40 characters) when traffic is to be encrypted.
    public var curveSecretKey: String?
    /// The server's CurveZMQ public key (Z85), which clients must know.
    public var curvePublicKey: String?

    /// Reads a connection file. Errors name the file and the field that is missing or wrong.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelError("cannot read connection file \(path)")
        }
        try self.init(json: data, source: path)
    }

    /// Parses connection-file JSON; `source` names it in errors.
    public init(json data: Data, source: String = "connection file") throws {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let d = obj as? [String: Any] else {
            throw KernelError("\(source): not a JSON object")
        }
        func port(_ name: String) throws -> Int {
            guard let p = d[name] as? Int, p >= 0, p <= 65535 else {
                throw KernelError("\(source): \(name) must be a port number (0…65535), got \(d[name].map { "\($0)" } ?? "nothing")")
            }
            return p
        }
        transport = d["transport"] as? String ?? "tcp"
        guard transport == "tcp" || transport == "ipc" else {
            throw KernelError("\(source): transport must be \"tcp\" or \"ipc\", got \"\(transport)\"")
        }
        ip = d["ip"] as? String ?? "127.0.0.1"
        shellPort = try port("shell_port")
        controlPort = try port("control_port")
        stdinPort = try port("stdin_port")
        iopubPort = try port("iopub_port")
        hbPort = try port("hb_port")
        key = d["key"] as? String ?? ""
        signatureScheme = d["signature_scheme"] as? String ?? "hmac-sha256"
        if !key.isEmpty, signatureScheme != "hmac-sha256" {
            throw KernelError("\(source): signature_scheme \"\(signatureScheme)\" is not supported (only hmac-sha256)")
        }
        curveSecretKey = d["curve_secretkey"] as? String
        curvePublicKey = d["curve_publickey"] as? String
        if let k = curveSecretKey, k.utf8.count != 40 {
            throw KernelError("\(source): curve_secretkey must be a 40-character Z85 key, got \(k.utf8.count) characters")
        }
    }

    /// The endpoint to bind for `port`: `tcp://IP:PORT` or `ipc://IP-PORT` (jupyter_client's naming).
    public func endpoint(_ port: Int) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(port)" : "tcp://\(ip):\(port)"
    }
}

/// An error of the kernel's set-up (bad connection file, kernelspec install) with a message for people.
public struct KernelError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// An error saying `message`.
    public init(_ message: String) { description = message }
}
