import effectmeting


def test_version_and_lazy_exports():
    assert effectmeting.__version__
    assert "att_gt" in dir(effectmeting)


def test_em_harmonise_stays_callable_after_a_harmonise_submodule_is_imported(tmp_path):
    """The package effectmeting.harmonise shadows the lazy function once a submodule is imported;
    the package forwards calls, so the README's quickstart works in any import order."""
    import subprocess
    import sys

    code = ("import effectmeting as em, effectmeting.harmonise.crosswalk\n"
            f"em.generate_demo({str(tmp_path)!r}, seed=1)\n"
            f"panel = em.harmonise({str(tmp_path / 'sources.toml')!r})\n"
            "print(type(panel).__name__, len(panel.data))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Panel ")
