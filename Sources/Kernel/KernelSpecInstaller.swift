import Foundation

/// Installs the PruneLang kernelspec: `kernel.json` (argv naming this binary by its absolute path,
/// `interrupt_mode: message`) and the 32×32 and 64×64 logos, from the repository's `kernelspec/`
/// folder into a Jupyter data directory's `kernels/prunelang`.
public enum KernelSpecInstaller {
    /// Where to install.
    public enum Destination: Equatable, Sendable {
        /// The user's Jupyter data dir: `$JUPYTER_DATA_DIR`, else `~/.local/share/jupyter`.
        case user
        /// The active virtual environment (`$VIRTUAL_ENV` or `$CONDA_PREFIX`)'s `share/jupyter`.
        case sysPrefix
        /// `PREFIX/share/jupyter`.
        case prefix(String)
    }

    /// The kernel's name (its folder and what notebooks' kernelspec metadata names).
    public static let kernelName = "prunelang"

    /// The `kernels` folder a destination means, with an error when it cannot be decided.
    public static func kernelsDirectory(_ destination: Destination, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        switch destination {
        case .user:
            if let d = environment["JUPYTER_DATA_DIR"], !d.isEmpty { return (d as NSString).appendingPathComponent("kernels") }
            return (NSHomeDirectory() as NSString).appendingPathComponent(".local/share/jupyter/kernels")
        case .sysPrefix:
            guard let p = environment["VIRTUAL_ENV"] ?? environment["CONDA_PREFIX"], !p.isEmpty else {
                throw KernelError("--sys-prefix: no virtual environment is active (VIRTUAL_ENV and CONDA_PREFIX are unset); use --prefix PATH")
            }
            return (p as NSString).appendingPathComponent("share/jupyter/kernels")
        case .prefix(let p):
            guard !p.isEmpty else { throw KernelError("--prefix: expected a folder, got an empty string") }
            return (p as NSString).appendingPathComponent("share/jupyter/kernels")
        }
    }

    /// The `kernelspec/` folder to install from: `$PRUNELANG_KERNELSPEC_DIR`, else the first
    /// `kernelspec/` holding a kernel.json in the folders above the executable, else in the
    /// current directory.
    public static func sourceDirectory(executable: String) throws -> String {
        let fm = FileManager.default
        if let d = ProcessInfo.processInfo.environment["PRUNELANG_KERNELSPEC_DIR"], !d.isEmpty { return d }
        var dir = (executable as NSString).deletingLastPathComponent
        for _ in 0..<6 {
            let candidate = (dir as NSString).appendingPathComponent("kernelspec")
            if fm.fileExists(atPath: (candidate as NSString).appendingPathComponent("kernel.json")) { return candidate }
            let share = (dir as NSString).appendingPathComponent("share/prunelang/kernelspec")
            if fm.fileExists(atPath: (share as NSString).appendingPathComponent("kernel.json")) { return share }
            dir = (dir as NSString).deletingLastPathComponent
        }
        let cwd = (fm.currentDirectoryPath as NSString).appendingPathComponent("kernelspec")
        if fm.fileExists(atPath: (cwd as NSString).appendingPathComponent("kernel.json")) { return cwd }
        throw KernelError("cannot find the kernelspec/ folder (kernel.json and logos) near \(executable); set PRUNELANG_KERNELSPEC_DIR")
    }

    /// This process's executable, resolved to an absolute path.
    public static func currentExecutable() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let arg0 = CommandLine.arguments[0]
        return arg0.hasPrefix("/") ? arg0 : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(arg0)
    }

    /// Writes the kernelspec into `destination`; returns the folder written.
    @discardableResult
    public static func install(to destination: Destination, executable: String = currentExecutable()) throws -> String {
        let source = try sourceDirectory(executable: executable)
        let target = (try kernelsDirectory(destination) as NSString).appendingPathComponent(kernelName)
        let fm = FileManager.default
        let templatePath = (source as NSString).appendingPathComponent("kernel.json")
        guard let data = fm.contents(atPath: templatePath),
              var spec = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              var argv = spec["argv"] as? [String], !argv.isEmpty else {
            throw KernelError("\(templatePath): expected a JSON object with a non-empty argv list")
        }
        argv[0] = executable
        spec["argv"] = argv
        do {
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
            let json = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
            try json.write(to: URL(fileURLWithPath: (target as NSString).appendingPathComponent("kernel.json")), options: .atomic)
            for logo in ["logo-32x32.png", "logo-64x64.png"] {
                let from = (source as NSString).appendingPathComponent(logo)
                guard let bytes = fm.contents(atPath: from) else { throw KernelError("missing \(from)") }
                try bytes.write(to: URL(fileURLWithPath: (target as NSString).appendingPathComponent(logo)), options: .atomic)
            }
        } catch let e as KernelError {
            throw e
        } catch {
            throw KernelError("cannot write the kernelspec into \(target): \(error.localizedDescription)")
        }
        return target
    }
}
