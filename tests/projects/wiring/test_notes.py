# factory-boy's declarations carry no type hints.
# mypy: allow-untyped-calls
from __future__ import annotations

from factory.declarations import Sequence
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notes.models import Author, Note, Notebook

from .factories import BaseFactory
from .harness.auth import AsUser
from .harness.tokens import TokenFactory


class AuthorFactory(BaseFactory):
    class Meta:
        model = Author

    name = Sequence(lambda n: f"Author {n}")


def test_a_minted_token_signs_an_author_in(client: FlaskClient, make_token: TokenFactory) -> None:
    author = AuthorFactory.create()
    headers = {"Authorization": f"Bearer {make_token(author.id)}"}

    response = client.post("/notebooks", json={"title": "Ideas"}, headers=headers)

    assert response.status_code == 201
    assert response.get_json()["title"] == "Ideas"


def test_a_forged_token_is_refused(client: FlaskClient, make_token: TokenFactory) -> None:
    author = AuthorFactory.create()
    forged = make_token(author.id, key="another-secret-of-at-least-32-bytes-long")

    response = client.post(
        "/notebooks", json={"title": "Ideas"}, headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


def test_a_note_is_written_through_the_test_session(as_user: AsUser, db_session: Session) -> None:
    author = AuthorFactory.create()
    notebook = Notebook(author_id=author.id, title="Ideas")
    db_session.add(notebook)
    db_session.flush()

    response = as_user(author).post(f"/notebooks/{notebook.id}/notes", json={"text": "Hello"})

    assert response.status_code == 201
    assert db_session.scalar(select(func.count()).select_from(Note)) == 1
