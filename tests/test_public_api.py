import inspect

import dedup


def test_all_is_sorted_and_is_exactly_the_public_namespace():
    # submodules are importable but are not part of the façade
    # the public names load when first used: dir() lists them, each resolves
    public = {
        name for name in dir(dedup)
        if not name.startswith("_") and not inspect.ismodule(getattr(dedup, name))
        and name not in {"TYPE_CHECKING", "Any", "import_module", "annotations"}
    }  # fmt: skip
    assert dedup.__all__ == sorted(dedup.__all__)
    assert set(dedup.__all__) - {"__version__"} == public


def test_version_comes_from_installed_metadata():
    from importlib.metadata import version

    assert dedup.__version__ == version("newsdedup")
