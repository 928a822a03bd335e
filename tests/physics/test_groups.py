"""diffsci.physics is grouped by concept (models, exact, sampling, variational, engineering,
dynamics): the groups partition the flat namespace, name for name and object for object.

So the conformance suite and the bad-input table, which enumerate the flat names of
`diffsci.physics`, cover every name of every group too, and a name added to a group without its
flat alias (or the reverse) fails here.
"""

import importlib
import inspect

import diffsci.physics as physics

GROUPS = ("models", "exact", "sampling", "variational", "engineering", "dynamics")


def _public(module):
    return {
        n for n in dir(module) if not n.startswith("_") and not inspect.ismodule(getattr(module, n))
    }


def test_the_groups_partition_the_flat_namespace():
    seen: dict[str, str] = {}
    for group in GROUPS:
        module = importlib.import_module(f"diffsci.physics.{group}")
        assert getattr(physics, group) is module
        names = _public(module)
        assert names == set(module.__all__), f"{group}: __all__ and the module's names differ"
        for name in names:
            assert name not in seen, f"{name} is in both {seen.get(name)} and {group}"
            seen[name] = group
            assert getattr(physics, name) is getattr(module, name), f"{group}.{name} differs"
    flat = _public(physics)
    assert flat == set(seen), (
        f"flat names in no group: {sorted(flat - set(seen))}; "
        f"group names with no flat alias: {sorted(set(seen) - flat)}"
    )


def test_the_package_docstring_names_every_group():
    for group in GROUPS:
        assert f"diffsci.physics.{group}" in physics.__doc__
