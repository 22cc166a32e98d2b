import Foundation
import Testing
import Numerics
import Models
#if canImport(Glibc)
import Glibc
#endif

/// Saves that leave nothing behind and replace nothing unasked: the part files of a process killed
/// mid-save are removed by the next save to the folder (those of live writers are kept), and a
/// save refuses an empty path and a folder whose config.json or tokenizer files are not a model's.
/// The model is a tiny llama built in memory, so these run without the models folder.
struct SaveSafetyTests {
    /// A two-block llama of width 8, every tensor in memory.
    static func tinyModel() throws -> Model {
        let config = ModelConfig(architecture: .llama, hiddenSize: 8, intermediateSizes: [16, 16], heads: 2, kvHeads: 2,
                                 vocabSize: 12, contextLength: 32, normEpsilon: 1e-5, tiedOutputHead: true, activation: .swiglu)
        var model = Model(name: "tiny", format: .memory, config: config, tensors: [:])
        model.set(.tokenEmbedding, to: Matrix(rows: 12, cols: 8) { r, c in Float(r * 8 + c) / 100 })
        model.set(.outputNorm, to: Matrix(rows: 1, cols: 8) { _, _ in 1 })
        for b in 0..<2 {
            model.set(.ffnUp, block: b, to: Matrix(rows: 16, cols: 8) { r, c in Float(r - c) / 10 })
            model.set(.ffnGate, block: b, to: Matrix(rows: 16, cols: 8) { r, c in Float(r + c) / 10 })
            model.set(.ffnDown, block: b, to: Matrix(rows: 8, cols: 16) { r, c in Float(r * c) / 10 })
        }
        return model
    }

    /// The id of a process that has exited (and been reaped), so no process has it now.
    static func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    static func write(_ text: String, _ url: URL) throws { try Data(text.utf8).write(to: url) }
    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    @Test func partFileNamesAreRecognisedExactly() {
        #expect(AtomicFile.partFilePID(".out.gguf.1234.part") == 1234)
        #expect(AtomicFile.partFilePID(AtomicFile.partFileName(for: "model.safetensors", pid: 77)) == 77)
        for name in ["out.gguf.1234.part", ".out.gguf.part", ".1234.part", ".out.gguf.12a4.part", ".out.gguf.-3.part",
                     ".out.gguf.1234.part.bak", ".out.gguf.0.part", ".x.99999999999.part", "..part"] {
            #expect(AtomicFile.partFilePID(name) == nil, "\(name)")
        }
    }

    @Test func aSaveRemovesThePartFilesOfDeadProcessesOnly() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dead = try Self.deadPID()
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        // SIGKILL: the test runner's blocked signals (SIGTERM among them) are inherited by the child.
        defer { kill(sleeper.processIdentifier, SIGKILL); sleeper.waitUntilExit() }
        let live = sleeper.processIdentifier

        let stale = dir.appendingPathComponent(".out.gguf.\(dead).part")
        let staleOther = dir.appendingPathComponent(".model.safetensors.\(dead).part")
        let mine = dir.appendingPathComponent(".old.gguf.\(getpid()).part")          // an earlier process with this pid
        let liveWriter = dir.appendingPathComponent(".out.gguf.\(live).part")
        let locked = dir.appendingPathComponent(".big.gguf.\(dead).part")           // a writer in another pid namespace
        let notOurs = [dir.appendingPathComponent("out.gguf.\(dead).part"), dir.appendingPathComponent(".notes.\(dead).txt"),
                       dir.appendingPathComponent(".out.gguf.\(dead).partial")]
        for f in [stale, staleOther, mine, liveWriter, locked] + notOurs { try Self.write("half a model", f) }
        let target = dir.appendingPathComponent("elsewhere.txt")
        try Self.write("not a part file", target)
        let link = dir.appendingPathComponent(".link.gguf.\(dead).part")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        let folderNamedLikeOne = dir.appendingPathComponent(".dir.gguf.\(dead).part")
        try FileManager.default.createDirectory(at: folderNamedLikeOne, withIntermediateDirectories: false)
        let fd = open(locked.path, O_RDONLY)
        #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
        defer { close(fd) }

        let report = try ModelWriter.save(try Self.tinyModel(), to: dir.appendingPathComponent("tiny.safetensors").path)
        #expect(report.tensorCount > 0 && Self.exists(dir.appendingPathComponent("tiny.safetensors")))

        #expect(!Self.exists(stale) && !Self.exists(staleOther) && !Self.exists(mine), "stale part files are removed")
        #expect(Self.exists(liveWriter), "a live process's part file is kept")
        #expect(Self.exists(locked), "a part file some writer still locks is kept")
        for f in notOurs { #expect(Self.exists(f), "\(f.lastPathComponent) is not a part file name and stays") }
        #expect(Self.exists(link) && Self.exists(target), "a symbolic link is never followed or removed")
        #expect(Self.exists(folderNamedLikeOne), "a folder is never removed")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { AtomicFile.partFilePID($0) == getpid() }
        #expect(left.isEmpty, "the save leaves no part file of its own: \(left)")
    }

    @Test func anEmptyPathIsRefusedAndWritesNothing() throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: cwd.path))
        do {
            try ModelWriter.save(try Self.tinyModel(), to: "")
            Issue.record("save to an empty path must fail")
        } catch let e as ModelError {
            #expect("\(e)".contains("empty"), "\(e)")
        }
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: cwd.path))
        #expect(after.subtracting(before).isEmpty, "nothing new in the current folder: \(after.subtracting(before))")
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: "") }
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: dir.path) }
    }

    @Test func aSaveNeverReplacesFilesThatAreNotAModels() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Self.tinyModel()
        // A project folder with a config.json of its own: neither a folder save nor a safetensors
        // file beside it may replace it.
        let project = dir.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: false)
        let theirs = #"{"editor": "vim", "tabs": 4}"#
        try Self.write(theirs, project.appendingPathComponent("config.json"))
        for path in [project.path, project.path + "/", project.appendingPathComponent(".").path,
                     project.appendingPathComponent("weights.safetensors").path] {
            do {
                try ModelWriter.save(model, to: path)
                Issue.record("\(path): a save must not replace a config.json that is not a model's")
            } catch let e as ModelError {
                #expect("\(e)".contains("config.json"), "\(e)")
            }
        }
        #expect(try String(contentsOf: project.appendingPathComponent("config.json"), encoding: .utf8) == theirs)
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path) == ["config.json"])
        // New, empty and model folders take a save, and saving again over it works.
        let fresh = dir.appendingPathComponent("fresh")
        try ModelWriter.save(model, to: fresh.path)
        try ModelWriter.save(model, to: fresh.path)
        #expect(Self.exists(fresh.appendingPathComponent("model.safetensors")) && Self.exists(fresh.appendingPathComponent("config.json")))
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        try ModelWriter.save(model, to: empty.appendingPathComponent("a.safetensors").path)
        try ModelWriter.save(model, to: empty.appendingPathComponent("b.safetensors").path)
        #expect(Self.exists(empty.appendingPathComponent("b.safetensors")))
    }
}
