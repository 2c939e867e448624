from fastapi import APIRouter, HTTPException

from app import crud
from app.api.deps import CurrentUser, SessionDep
from app.models import User, UserCreate, UserPublic, UserRegister

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserPublic)
def read_user_me(current_user: CurrentUser) -> User:
    return current_user


@router.post("/signup", response_model=UserPublic)
def register_user(session: SessionDep, user_in: UserRegister) -> object:
    if crud.get_user_by_email(session=session, email=user_in.email):
        raise HTTPException(
            status_code=400, detail="The user with this email already exists"
        )
    return crud.create_user(
        session=session, user_create=UserCreate.model_validate(user_in)
    )
