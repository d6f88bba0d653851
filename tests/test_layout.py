"""The package's stages (README, "How it works"): a stage imports only the stages before it, so a reader finds
each concern in one folder and the flow in the folder names. The one import that runs back is named here."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
STAGES = ["ingest", "search", "answer", "serve", "tools"]
SHARED = {"errors", "files", "runtime", "data"}
# the command line's `bench` runs the measuring tool (which measures every stage, the answer cache too)
EXCEPTIONS = {("serve/cli.py", "tools.bench")}


def imports_of(path: Path) -> list[str]:
    """The assistant modules a file imports, as dotted names under assistant (relative ones resolved)."""
    package = path.relative_to(PACKAGE).parent.parts   # a module's package; an __init__'s is itself
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                out.append(".".join([*base, *(node.module.split(".") if node.module else [])]))
            elif node.module and node.module.startswith("assistant."):
                out.append(node.module.removeprefix("assistant."))
        elif isinstance(node, ast.Import):
            out += [a.name.removeprefix("assistant.") for a in node.names if a.name.startswith("assistant.")]
    return out


def test_a_stage_imports_only_the_stages_before_it():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) < 2 or rel.parts[0] not in STAGES:
            continue
        own = STAGES.index(rel.parts[0])
        for target in imports_of(path):
            stage = target.split(".")[0]
            if stage in STAGES and STAGES.index(stage) > own and (str(rel), target) not in EXCEPTIONS:
                wrong.append(f"{rel} imports {target}")
    assert not wrong, "a lower stage imports a higher one:\n" + "\n".join(wrong)


def test_every_module_belongs_to_a_stage_or_is_shared():
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert top <= SHARED, f"modules outside the stages: {sorted(top - SHARED)}"
    assert all((PACKAGE / s / "__init__.py").exists() for s in STAGES)
