"""Every public declaration in Sources/ carries a `///` doc comment saying what it is for
(DESIGN.md's convention); protocol witnesses such as `description` are exempt."""
import pathlib, re

SOURCES = pathlib.Path(__file__).resolve().parents[2] / "Sources"
DECL = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*public\s+(?:static\s+|final\s+|override\s+|mutating\s+)*"
                  r"(struct|enum|class|protocol|typealias|func|init|var|let|subscript|case)\b\s*(\w*)")
EXEMPT = {"description", "debugDescription", "hash", "next", "callAsFunction_"}


def undocumented():
    missing = []
    for path in sorted(SOURCES.rglob("*.swift")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            m = DECL.match(line)
            if not m or m.group(2) in EXEMPT:
                continue
            j = i - 1
            while j >= 0 and lines[j].strip().startswith("@"):   # attributes between doc and decl
                j -= 1
            if j < 0 or not lines[j].strip().startswith("///"):
                missing.append(f"{path.relative_to(SOURCES.parent)}:{i + 1}: {line.strip()}")
    return missing


def test_sources_exist():
    assert any(SOURCES.rglob("*.swift"))


def test_every_public_declaration_is_documented():
    missing = undocumented()
    assert not missing, "undocumented public declarations:\n" + "\n".join(missing)
