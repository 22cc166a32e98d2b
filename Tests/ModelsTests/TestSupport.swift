// The shared test helpers (Tests/TestHelpers): `TestSupport` and friends.
@_exported import TestHelpers
