import Foundation

/// The kernel_info_reply content: protocol version, implementation, language_info, banner, help links.
enum KernelInfo {
    /// PruneLang's version, as `prunelang --version` prints it.
    static let version = "0.1.0"

    /// The language reference (docs/LANGUAGE.md of the checkout the binary was built in), when found.
    static let helpLinks: [JSONObject] = {
        var dir = (KernelSpecInstaller.currentExecutable() as NSString).deletingLastPathComponent
        for _ in 0..<6 {
            let doc = (dir as NSString).appendingPathComponent("docs/LANGUAGE.md")
            if FileManager.default.fileExists(atPath: doc) {
                return [["text": "PruneLang language reference", "url": URL(fileURLWithPath: doc).absoluteString]]
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return []
    }()

    /// The reply's content.
    static let content: JSONObject = [
        "status": "ok",
        "protocol_version": WireMessage.protocolVersion,
        "implementation": "prunelang",
        "implementation_version": version,
        "language_info": [
            "name": "prunelang",
            "version": version,
            "mimetype": "text/x-prunelang",
            "file_extension": ".prune",
            // Pygments' PruneLang lexer ships in kernelspec/pygments (nbconvert's exports use it). JupyterLab
            // has no PruneLang CodeMirror mode without a front-end extension; Python's is the nearest
            // honest one: it colours `#` comments, double-quoted strings, numbers and most keywords.
            "pygments_lexer": "prunelang",
            "codemirror_mode": "python",
        ] as JSONObject,
        "banner": "PruneLang \(version): look inside language-model weights and prune them. help() lists the builtins; ?name documents one.",
        "help_links": helpLinks,
        "debugger": false,
    ]
}
