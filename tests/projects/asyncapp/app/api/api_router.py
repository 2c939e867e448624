from fastapi import APIRouter, status

from app.api.endpoints import auth, users

auth_router = APIRouter()
auth_router.include_router(auth.router, prefix="/auth", tags=["auth"])

api_router = APIRouter(
    responses={
        status.HTTP_401_UNAUTHORIZED: {
            "description": "No `Authorization` access token header, token is invalid or user removed",
        }
    }
)
api_router.include_router(users.router, prefix="/users", tags=["users"])
