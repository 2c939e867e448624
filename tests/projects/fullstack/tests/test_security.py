from app.core.security import get_password_hash, verify_password


def test_a_password_verifies_against_its_hash() -> None:
    hashed = get_password_hash("correct horse battery")

    assert verify_password("correct horse battery", hashed)
    assert not verify_password("wrong", hashed)
