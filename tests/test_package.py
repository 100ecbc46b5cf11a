import effectmeting


def test_version_and_lazy_exports():
    assert effectmeting.__version__
    assert "att_gt" in dir(effectmeting)
