"""Bearer tokens: HS256 with `uid`, `aud` and `exp`."""

from __future__ import annotations

import jwt
from flask import abort, request
from sqlalchemy.orm import Session

from notes.models import Author
from notes.settings import settings


def current_author(session: Session) -> Author:
    """The author the request's token names; abort with 401 otherwise."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        abort(401)
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            options={"require": ["exp", "uid", "aud"]},
        )
    except jwt.InvalidTokenError:
        abort(401)
    author = session.get(Author, int(claims["uid"]))
    if author is None:
        abort(401)
    return author
