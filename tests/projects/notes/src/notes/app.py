"""The notes API."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request

from notes import auth, db
from notes.models import Note, Notebook


def create_app() -> Flask:
    """Build the app."""
    app = Flask(__name__)

    @app.post("/notebooks")
    def create_notebook() -> tuple[dict[str, Any], int]:
        with db.get_session() as session:
            author = auth.current_author(session)
            notebook = Notebook(author_id=author.id, title=request.get_json()["title"])
            session.add(notebook)
            session.commit()
            return {"id": notebook.id, "title": notebook.title}, 201

    @app.post("/notebooks/<int:notebook_id>/notes")
    def add_note(notebook_id: int) -> tuple[dict[str, Any], int]:
        with db.get_session() as session:
            author = auth.current_author(session)
            notebook = session.get(Notebook, notebook_id)
            if notebook is None or notebook.author_id != author.id:
                abort(404)
            note = Note(notebook=notebook, text=request.get_json()["text"])
            session.add(note)
            session.commit()
            return {"id": note.id, "text": note.text}, 201

    return app
