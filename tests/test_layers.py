"""The layers of diffsci, enforced: a static walk of the import graph of every file in `diffsci/`.

Three rules, from the architecture (DESIGN.md, "Arrows point down only"; STYLE.md, "Layout"):

- **layers**: a subpackage imports only from its own layer or the layers below it (`LAYERS`):
  `physics` uses the primitives, the primitives never import `physics`, nothing but the command
  line imports the command line. Imports inside functions (the lazy imports this codebase uses)
  count as much as those at the top of a file, and so do `importlib.import_module("diffsci...")`
  calls with a literal name.
- **cycles**: no import cycle between modules, and none between subpackages (the primitives may
  use each other, but not both ways round). A cycle through module-level imports works only by
  the order of the statements; one closed by a lazy import works, but only because of where that
  import sits, and the message says which links are lazy. A function importing its own package
  (to find its modules, say) is no cycle: the package is loaded by the time the function runs.
- **private names**: nothing takes a private name (a module or a name starting with `_`) from
  another subpackage, whether by an import or as an attribute of an imported module
  (`tn._ipeps`); private code shared between subpackages lives in the declared internal package
  `diffsci/_internal/`. Inside one subpackage its private modules are free to use each other.

The checker runs on source text, so the tests at the end run it on small made-up packages to show
that each rule fails when it should.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib

import pytest

PACKAGE = "diffsci"
ROOT = pathlib.Path(__file__).resolve().parents[1] / PACKAGE

# Bottom to top, per DESIGN.md. Equal numbers are one layer: its members may use each other (the
# subpackage graph must stay acyclic). `""` is the top-level `diffsci/__init__.py`, which imports
# no subpackage ("import them explicitly"); `diffsci/__main__.py` belongs with the command line.
LAYERS = {
    "": 0,
    "_internal": 0,  # the declared internal package: private helpers shared between subpackages
    "testing": 1,  # gradient checks and strategies, used by the library's tests and its users
    "utils": 1,  # the driver of long runs, checkpoints, progress, sharding
    "linalg": 2,
    "ode": 2,
    "tn": 2,
    "flows": 2,
    "physics": 3,
    "cli": 4,
    "plot": 4,  # the figures, drawn from the library's records: the command line draws through it
    "__main__": 4,
}
INTERNAL = "_internal"


@dataclasses.dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    path: str  # its file, for messages
    line: int
    target: str  # the dotted name imported: a module, or module.name
    module: str  # the module that must be loaded for it (the longest prefix that is a module)
    lazy: bool  # inside a function


@dataclasses.dataclass(frozen=True)
class Violation:
    rule: str  # "layer", "cycle", "private", "unknown subpackage"
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


def _module_name(path: str) -> str:
    parts = list(pathlib.PurePosixPath(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _subpackage(module: str) -> str:
    """The subpackage a module belongs to: `linalg` for `diffsci.linalg._eigh`, `""` for the
    package itself, `__main__` for `diffsci.__main__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


class _Walker(ast.NodeVisitor):
    """Collects the imports of one file (with their line and whether they sit in a function) and
    the attribute chains read from names bound to diffsci modules."""

    def __init__(self, module: str, is_package: bool, modules: set[str], path: str):
        self.module, self.path, self.modules = module, path, modules
        self.package = module if is_package else module.rpartition(".")[0]
        self.depth = 0
        self.imports: list[Import] = []
        self.bound: dict[str, str] = {}  # local name -> dotted diffsci module it refers to
        self.attributes: list[tuple[int, str, str]] = []  # (line, module, dotted name read)

    def _add(self, target: str, line: int) -> None:
        module = target
        while module and module not in self.modules:
            module = module.rpartition(".")[0]
        self.imports.append(
            Import(self.module, self.path, line, target, module or target, self.depth > 0)
        )

    def _function(self, node) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                self._add(alias.name, node.lineno)
                if alias.asname:
                    self.bound[alias.asname] = alias.name
                else:
                    self.bound[PACKAGE] = PACKAGE

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        if not (origin == PACKAGE or origin.startswith(PACKAGE + ".")):
            return
        for alias in node.names:
            target = f"{origin}.{alias.name}" if alias.name != "*" else origin
            self._add(target, node.lineno)
            if target in self.modules:
                self.bound[alias.asname or alias.name] = target

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (
            name == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and node.args[0].value.startswith(PACKAGE)
        ):
            self._add(node.args[0].value, node.lineno)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain, inner = [], node
        while isinstance(inner, ast.Attribute):
            chain.append(inner.attr)
            inner = inner.value
        if isinstance(inner, ast.Name) and inner.id in self.bound:
            dotted = ".".join([self.bound[inner.id], *reversed(chain)])
            self.attributes.append((node.lineno, self.bound[inner.id], dotted))
            return  # the whole chain is read; its inner attributes are prefixes of it
        self.generic_visit(node)


def _walk(files: dict[str, str]) -> tuple[list[Import], list[tuple[str, str, int, str, str]]]:
    modules = {_module_name(p) for p in files}
    imports, attributes = [], []
    for path, text in sorted(files.items()):
        module = _module_name(path)
        walker = _Walker(module, path.endswith("__init__.py"), modules, path)
        walker.visit(ast.parse(text, filename=path))
        imports += walker.imports
        attributes += [
            (module, path, line, bound, dotted) for line, bound, dotted in walker.attributes
        ]
    return imports, attributes


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node, or a node with a self loop
    (Tarjan's algorithm), each as a sorted list."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def check(files: dict[str, str], layers: dict[str, int] = LAYERS) -> list[Violation]:
    """Every violation of the three rules in `files` (path relative to the repository root,
    `diffsci/...`, to its source text)."""
    imports, attributes = _walk(files)
    violations = []
    paths = {_module_name(p): p for p in files}

    for sub in sorted({_subpackage(m) for m in paths}):
        if sub not in layers:
            init = paths.get(f"{PACKAGE}.{sub}") or min(
                p for m, p in paths.items() if _subpackage(m) == sub
            )
            violations.append(
                Violation(
                    "unknown subpackage",
                    init,
                    1,
                    f"`{PACKAGE}.{sub}` has no layer: add it to LAYERS in tests/test_layers.py, at "
                    "its place in DESIGN.md's diagram",
                )
            )

    for imp in imports:
        src, dst = _subpackage(imp.source), _subpackage(imp.target)
        how = "lazy import" if imp.lazy else "import"
        if src in layers and dst in layers and layers[dst] > layers[src]:
            violations.append(
                Violation(
                    "layer",
                    imp.path,
                    imp.line,
                    f"{how} of `{imp.target}` goes up the layers: `{src or PACKAGE}` (layer "
                    f"{layers[src]}) may not import `{dst}` (layer {layers[dst]})",
                )
            )

    reads = [(imp.source, imp.path, imp.line, imp.target, "imports") for imp in imports]
    # An attribute of a module whose import is already reported is not reported again.
    reads += [
        (m, p, line, dotted, "reads")
        for m, p, line, bound, dotted in attributes
        if not any(map(_is_private, bound.split(".")[2:]))
        or _subpackage(bound) in (_subpackage(m), INTERNAL)
    ]
    for source, path, line, target, verb in reads:
        src, dst = _subpackage(source), _subpackage(target)
        if dst in (src, INTERNAL, ""):
            continue
        private = [part for part in target.split(".")[2:] if _is_private(part)]
        if private:
            violations.append(
                Violation(
                    "private",
                    path,
                    line,
                    f"`{source}` {verb} `{target}`, private (`{private[0]}`) to `{PACKAGE}.{dst}`: "
                    f"use a public name, or move shared private code to `{PACKAGE}.{INTERNAL}`",
                )
            )

    # Module cycles. Loading `a.b.c` also runs the `__init__` of `a.b`, so that is an edge too,
    # unless the importer lives inside `a.b` (then that `__init__` is already running). A lazy
    # import is an edge as well (a circle through one works, but only because of where the
    # import sits), except a lazy import of the importer's own package: by the time a function
    # runs, its package is loaded (the command line finds its commands that way).
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], Import] = {}
    for imp in imports:
        if imp.lazy and (imp.source + ".").startswith(imp.module + "."):
            continue
        targets = {imp.module}
        parent = imp.module.rpartition(".")[0]
        while parent and not (imp.source + ".").startswith(parent + "."):
            targets.add(parent)
            parent = parent.rpartition(".")[0]
        for t in targets:
            if t in paths and t != imp.source:
                edges.setdefault(imp.source, set()).add(t)
                if (imp.source, t) not in where or where[(imp.source, t)].lazy > imp.lazy:
                    where[(imp.source, t)] = imp
    for component in _cycles(edges):
        members = set(component)
        links = [
            (a, b, where[(a, b)])
            for a in component
            for b in sorted(edges.get(a, ()))
            if b in members
        ]
        first = links[0][2]
        violations.append(
            Violation(
                "cycle",
                first.path,
                first.line,
                "import cycle between modules: "
                + "; ".join(
                    f"{a} -> {b} (line {imp.line}{', lazy' if imp.lazy else ''})"
                    for a, b, imp in links
                ),
            )
        )

    # Subpackage cycles, through every import (a lazy one too: it still ties the two together).
    sub_edges: dict[str, set[str]] = {}
    sub_where: dict[tuple[str, str], Import] = {}
    for imp in imports:
        src, dst = _subpackage(imp.source), _subpackage(imp.target)
        if src != dst and dst:
            sub_edges.setdefault(src, set()).add(dst)
            sub_where.setdefault((src, dst), imp)
    for component in _cycles(sub_edges):
        members = set(component)
        links = [
            sub_where[(a, b)]
            for a in component
            for b in sorted(sub_edges.get(a, ()))
            if b in members
        ]
        first = links[0]
        violations.append(
            Violation(
                "cycle",
                first.path,
                first.line,
                "import cycle between subpackages: "
                + "; ".join(
                    f"{_subpackage(imp.source)} -> {_subpackage(imp.target)} "
                    f"({imp.path}:{imp.line})"
                    for imp in links
                ),
            )
        )
    return violations


def _package_files() -> dict[str, str]:
    base = ROOT.parent
    return {
        p.relative_to(base).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(ROOT.rglob("*.py"))
    }


# Examples and benchmarks show how to use diffsci, so they take only its public names: no private
# module (`diffsci.tn._trg`), no private name (`ip._normalized`), whether imported or read.
SCRIPTS = ("examples", "benchmarks")


def check_scripts(scripts: dict[str, str], package: dict[str, str]) -> list[Violation]:
    """Every private diffsci name that the scripts (path relative to the repository root, to its
    source text) import or read; `package` is diffsci's files, as for `check`, to tell its
    modules from the names they define."""
    modules = {_module_name(p) for p in package}
    violations = []
    for path, text in sorted(scripts.items()):
        walker = _Walker(_module_name(path), False, modules, path)
        walker.visit(ast.parse(text, filename=path))
        reads = [(imp.line, imp.target, "imports") for imp in walker.imports]
        # an attribute of a private module is reported with that module's import
        reads += [
            (line, dotted, "reads")
            for line, bound, dotted in walker.attributes
            if not any(map(_is_private, bound.split(".")[1:]))
        ]
        for line, target, verb in reads:
            private = [part for part in target.split(".")[1:] if _is_private(part)]
            if private:
                violations.append(
                    Violation(
                        "private",
                        path,
                        line,
                        f"`{path}` {verb} `{target}`, private (`{private[0]}`): examples and "
                        "benchmarks use only public names (export what they need, with a "
                        "docstring and a bad-input row)",
                    )
                )
    return violations


def _script_files() -> dict[str, str]:
    base = ROOT.parent
    return {
        p.relative_to(base).as_posix(): p.read_text(encoding="utf-8")
        for folder in SCRIPTS
        for p in sorted((base / folder).glob("*.py"))
    }


# Private names the command line still takes from physics, each until the work that removes it:
# (file, private module) -> why it is allowed for now. An entry that no longer matches fails.
PENDING = {
    (
        "diffsci/cli/_cmd_ipeps.py",
        "diffsci.physics._ipeps",
    ): "heisenberg_start becomes public with the physics groups (issue 16, items 4 and 5)",
}


def test_layers_hold():
    """diffsci itself: no upward import, no cycle, no private name across subpackages."""
    files = _package_files()
    assert len(files) > 50  # the walk found the package
    violations, used = [], set()
    for v in check(files):
        pending = [
            key
            for key in PENDING
            if v.rule == "private" and v.path == key[0] and f"`{key[1]}" in v.message
        ]
        used.update(pending)
        if not pending:
            violations.append(v)
    assert not violations, "the layers of diffsci are broken:\n" + "\n".join(map(str, violations))
    assert used == set(PENDING), f"stale PENDING entries: {sorted(set(PENDING) - used)}"


def test_examples_and_benchmarks_use_only_public_names():
    scripts = _script_files()
    assert any(p.startswith("examples/") for p in scripts)
    assert any(p.startswith("benchmarks/") for p in scripts)
    violations = check_scripts(scripts, _package_files())
    assert not violations, "examples or benchmarks take private names:\n" + "\n".join(
        map(str, violations)
    )


def test_every_subpackage_has_a_layer():
    """LAYERS names exactly the subpackages that exist (a stale entry is a typo waiting)."""
    subs = {_subpackage(_module_name(p)) for p in _package_files()}
    assert subs == set(LAYERS)


# The checker on made-up packages: each rule fails when it should, and only then.


def _fake(modules: dict[str, str]) -> dict[str, str]:
    """`{"linalg/_eigh": "..."}` -> `{"diffsci/linalg/_eigh.py": "..."}`, with every package's
    `__init__.py` (empty unless given, as `{"linalg": "..."}`)."""
    files = {}
    for name, text in modules.items():
        parts = name.split("/")
        path = "/".join([PACKAGE, *parts])
        files[path + ("/__init__.py" if len(parts) == 1 else ".py")] = text
        for i in range(len(parts)):
            files.setdefault("/".join([PACKAGE, *parts[:i]]) + "/__init__.py", "")
    return files


def _rules(files) -> list[tuple[str, str, int]]:
    return sorted((v.rule, v.path, v.line) for v in check(files))


def test_checker_passes_a_clean_package():
    files = _fake(
        {
            "linalg": "from ._eigh import eigh as eigh\n",
            "linalg/_eigh": "from ._checks import _square\n"
            "from diffsci._internal._validate import fail\n"
            "def eigh(a):\n    return _square(a)\n",
            "linalg/_checks": "def _square(a):\n    return a\n",
            "_internal/_validate": "def fail():\n    pass\n",
            "tn/_trg": "from diffsci.linalg import eigh\n",
            "physics/_ising": "def f():\n"
            "    from diffsci.tn._trg import eigh as public_in_private\n"
            "    from diffsci import tn\n    return tn.trg\n",
        }
    )
    # physics takes a public name from a private tn module: that is private too (see below).
    assert _rules(files) == [("private", "diffsci/physics/_ising.py", 2)]
    del files["diffsci/physics/_ising.py"]
    assert check(files) == []


def test_checker_catches_an_upward_import():
    files = _fake(
        {
            "physics": "x = 1\n",
            "linalg/_eigh": (
                "import jax\n\ndef f():\n    from diffsci.physics import x\n    return x\n"
            ),
            "tn/_trg": "from ..physics import x\n",  # relative, at module level
            "testing/_check": "import diffsci.linalg\n",
        }
    )
    found = check(files)
    assert _rules(files) == [
        ("layer", "diffsci/linalg/_eigh.py", 4),
        ("layer", "diffsci/testing/_check.py", 1),
        ("layer", "diffsci/tn/_trg.py", 1),
    ]
    message = str(next(v for v in found if v.path.endswith("_eigh.py")))
    assert "diffsci/linalg/_eigh.py:4: [layer] lazy import of `diffsci.physics.x`" in message
    assert "`linalg` (layer 2) may not import `physics` (layer 3)" in message


def test_checker_catches_a_module_cycle():
    files = _fake(
        {
            "linalg/_eigh": "from ._gauge import checked\n",
            "linalg/_gauge": "from ._core import helper\nfrom ._eigh import eigh\n",
            "linalg/_core": "def helper():\n    import diffsci.linalg\n",  # its own package: fine
        }
    )
    found = check(files)
    assert _rules(files) == [("cycle", "diffsci/linalg/_eigh.py", 1)]
    assert "diffsci.linalg._eigh -> diffsci.linalg._gauge (line 1)" in str(found[0])
    assert "diffsci.linalg._gauge -> diffsci.linalg._eigh (line 2)" in str(found[0])
    # Closed by a lazy import (the circle _eigh <-> _gauge that diffsci had): still a cycle.
    files["diffsci/linalg/_eigh.py"] = "def eigh():\n    from ._gauge import checked\n"
    found = check(files)
    assert _rules(files) == [("cycle", "diffsci/linalg/_eigh.py", 2)]
    assert "diffsci.linalg._eigh -> diffsci.linalg._gauge (line 2, lazy)" in str(found[0])
    # A module taking a name from its own package's __init__, which imports it: a cycle.
    files = _fake(
        {"linalg": "from ._eigh import eigh\n", "linalg/_eigh": "from diffsci.linalg import x\n"}
    )
    assert _rules(files) == [("cycle", "diffsci/linalg/__init__.py", 1)]


def test_checker_catches_a_subpackage_cycle():
    files = _fake(
        {
            "tn/_trg": "from diffsci.linalg import svd\n",
            "linalg/_svd": "def svd():\n    import diffsci.tn\n",  # lazy, but still both ways round
        }
    )
    found = check(files)
    assert _rules(files) == [("cycle", "diffsci/linalg/_svd.py", 2)]
    assert "between subpackages: linalg -> tn" in str(found[0])


def test_checker_catches_a_private_import():
    files = _fake(
        {
            "linalg/_primitive": "def jvp_primitive():\n    pass\n",
            "tn": "from . import _ipeps\n",
            "tn/_ipeps": "_C4V = ()\n",
            "tn/_ctmrg": "from diffsci.linalg._primitive import jvp_primitive\n"
            "from ._ipeps import _C4V\n",  # the same subpackage: fine
            "physics/_ipeps": "def f():\n    from diffsci.tn._ipeps import _C4V\n",
            "physics/_dynamics": "import diffsci.tn as tn\nx = tn._ipeps._C4V\n",
            "cli/_main": "from diffsci.physics import _dynamics\n"
            "import importlib\nm = importlib.import_module('diffsci.tn._ipeps')\n",
        }
    )
    found = check(files)
    assert _rules(files) == [
        ("private", "diffsci/cli/_main.py", 1),
        ("private", "diffsci/cli/_main.py", 3),
        ("private", "diffsci/physics/_dynamics.py", 2),
        ("private", "diffsci/physics/_ipeps.py", 2),
        ("private", "diffsci/tn/_ctmrg.py", 1),
    ]
    message = str(next(v for v in found if v.path.endswith("_ctmrg.py")))
    assert "imports `diffsci.linalg._primitive.jvp_primitive`" in message
    assert "private (`_primitive`) to `diffsci.linalg`" in message


def test_checker_allows_the_internal_package():
    files = _fake(
        {
            "_internal/_primitive": "def jvp_primitive():\n    pass\n",
            "tn/_ctmrg": "from diffsci._internal._primitive import jvp_primitive\n"
            "from diffsci._internal import _primitive\n",
        }
    )
    assert check(files) == []


def test_checker_flags_an_unknown_subpackage():
    files = _fake({"quantum/_circuits": "x = 1\n"})
    assert _rules(files) == [("unknown subpackage", "diffsci/quantum/__init__.py", 1)]


@pytest.mark.parametrize("layers", [LAYERS])
def test_layers_follow_the_design(layers):
    """The order DESIGN.md draws: physics over the primitives over testing/utils."""
    for primitive in ("linalg", "ode", "tn", "flows"):
        assert layers["testing"] < layers[primitive] < layers["physics"] < layers["cli"]
        assert layers["utils"] < layers[primitive]
    assert layers[INTERNAL] == min(layers.values())


def test_script_checker_catches_private_names():
    package = _fake(
        {
            "tn": "from ._trg import trg as trg\n",
            "tn/_trg": "def trg():\n    pass\nsvd = None\n",
            "physics": "from . import dynamics as dynamics\n",
            "physics/dynamics": "from ._dynamics import lorenz as lorenz\n",
            "physics/_dynamics": "def lorenz():\n    pass\ndef _helper():\n    pass\n",
            "cli/_common": "def output_dir():\n    pass\n",
        }
    )
    clean = {
        "examples/ok.py": "import diffsci.tn as tn\nfrom diffsci.physics import dynamics as dyn\n"
        "import numpy as _np\nx = tn.trg, dyn.lorenz, _np.zeros\n",
    }
    assert check_scripts(clean, package) == []
    scripts = {
        "benchmarks/tn.py": "import diffsci.tn._trg as trg_module\n"
        "trg_module.svd = None\n"  # reported with the import, not again
        "def f():\n    from diffsci.physics import _dynamics\n",
        "examples/a.py": "from diffsci.cli._common import output_dir\n"
        "from diffsci.physics import dynamics as dyn\n"
        "y = dyn._helper\n"
        "import importlib\nm = importlib.import_module('diffsci.tn._trg')\n",
    }
    found = check_scripts(scripts, package)
    assert sorted((v.rule, v.path, v.line) for v in found) == [
        ("private", "benchmarks/tn.py", 1),
        ("private", "benchmarks/tn.py", 4),
        ("private", "examples/a.py", 1),
        ("private", "examples/a.py", 3),
        ("private", "examples/a.py", 5),
    ]
    message = str(next(v for v in found if v.line == 3))
    assert "reads `diffsci.physics.dynamics._helper`, private (`_helper`)" in message
