from fastapi import APIRouter
from sqlmodel import select

from app import crud
from app.api.deps import CurrentUser, SessionDep
from app.models import Item, ItemCreate, ItemPublic

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/", response_model=list[ItemPublic])
def read_items(session: SessionDep, current_user: CurrentUser) -> object:
    return session.exec(select(Item).where(Item.owner_id == current_user.id)).all()


@router.post("/", response_model=ItemPublic)
def create_item(
    session: SessionDep, current_user: CurrentUser, item_in: ItemCreate
) -> object:
    return crud.create_item(session=session, item_in=item_in, owner_id=current_user.id)
