import ArgumentParser
import Foundation
import Kernel

/// `prunelang kernel -f CONNECTION_FILE`: the Jupyter kernel (what kernel.json's argv starts).
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel", abstract: "Serve PruneLang to Jupyter (messaging protocol 5.3 over ZeroMQ).")

    /// The connection file Jupyter wrote.
    @Option(name: .customShort("f"), help: "The connection file (ports, key, transport) written by the Jupyter client.")
    var connectionFile: String

    func run() throws {
        do {
            let info = try ConnectionInfo(contentsOf: connectionFile)
            let server = try KernelServer(connection: info)
            // Interrupts come as messages (interrupt_mode "message"); a Ctrl-C in the terminal that
            // started Jupyter reaches the kernel too, and must interrupt the cell, not end the kernel.
            KernelSignal.server = server
            signal(SIGINT) { _ in KernelSignal.server?.interruptRunningCell() }
            throw ExitCode(server.run())
        } catch let e as KernelError {
            FileHandle.standardError.write(Data("prunelang kernel: \(e)\n".utf8))
            throw ExitCode(2)
        } catch let e as ZMQError {
            FileHandle.standardError.write(Data("prunelang kernel: \(e)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The kernel a SIGINT handler interrupts.
enum KernelSignal {
    nonisolated(unsafe) static var server: KernelServer?
}

/// `prunelang install-kernel [--user | --sys-prefix | --prefix P]`: writes the kernelspec.
struct InstallKernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-kernel",
        abstract: "Install the PruneLang kernelspec for Jupyter (default: --user).")

    @Flag(help: "Into the user's Jupyter data dir ($JUPYTER_DATA_DIR or ~/.local/share/jupyter).")
    var user = false

    @Flag(name: .customLong("sys-prefix"), help: "Into the active virtual environment's share/jupyter.")
    var sysPrefix = false

    @Option(help: "Into PREFIX/share/jupyter.")
    var prefix: String?

    func validate() throws {
        let chosen = [user, sysPrefix, prefix != nil].filter { $0 }.count
        guard chosen <= 1 else { throw ValidationError("choose one of --user, --sys-prefix and --prefix, got \(chosen)") }
    }

    func run() throws {
        let destination: KernelSpecInstaller.Destination = sysPrefix ? .sysPrefix : prefix.map { .prefix($0) } ?? .user
        do {
            let folder = try KernelSpecInstaller.install(to: destination)
            print("Installed the PruneLang kernelspec in \(folder)")
        } catch let e as KernelError {
            FileHandle.standardError.write(Data("prunelang install-kernel: \(e)\n".utf8))
            throw ExitCode(2)
        }
    }
}
