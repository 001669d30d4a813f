from .service import add


def test_add() -> None:
    assert add(1, 2) == 3
    assert add(-5, 2) == -3
    assert add(2**53 - 1, 2**53 - 1) == 2**54 - 2
