"""Tables."""

from __future__ import annotations

from sqlalchemy import ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

metadata = MetaData()


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = metadata


class Author(Base):
    """Someone who writes notes."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Notebook(Base):
    """A collection of notes of one author."""

    __tablename__ = "notebooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[list[Note]] = relationship(back_populates="notebook")


class Note(Base):
    """A note in a notebook."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id"))
    text: Mapped[str]
    notebook: Mapped[Notebook] = relationship(back_populates="notes")
