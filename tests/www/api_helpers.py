"""The API as a player's program uses it: a token of theirs in the Authorization header."""

from django.test import Client

from stechec.www.api import tokens


def token_client(user, scopes=("read", "submit")):
    _, token = tokens.create(user, "tests", scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")
