import Foundation
import TestHelpers

/// Locates and decodes the committed reference fixtures in `Tests/fixtures/numerics/`
/// (written by the scripts in `Tests/fixtures/`, never by hand).
enum Fixtures {
    /// The folder holding the numerics fixtures.
    static let folder: URL = TestSupport.root.appendingPathComponent("Tests/fixtures/numerics")

    /// Decodes the JSON fixture `name` (e.g. "ks.json") as `T`.
    static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }
}
