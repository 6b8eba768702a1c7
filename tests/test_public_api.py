import inspect

import dedup


def test_all_is_sorted_and_is_exactly_the_public_namespace():
    # submodules are importable but are not part of the façade
    public = {
        name for name, value in vars(dedup).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }  # fmt: skip
    assert dedup.__all__ == sorted(dedup.__all__)
    assert set(dedup.__all__) - {"__version__"} == public


def test_version_comes_from_installed_metadata():
    from importlib.metadata import version

    assert dedup.__version__ == version("newsdedup")
