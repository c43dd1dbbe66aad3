"""Cutting a whole list into AWS-style pages.

moto answers several list calls with everything at once; AWS pages them. A page
here is cut from the whole list, sorted by a key, and its token names the key of
the last item it holds: the next page starts with the first item after that key.
So pages never repeat an item, and never lose one that exists throughout, even
when items are added or removed between two calls (a position-based token would
shift by one).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

# Tokens look opaque, as AWS's do, but are just the last key in JSON.
_TOKEN_PREFIX = "emu1"


class InvalidToken(ValueError):
    """A nextToken the emulator did not issue."""


@dataclass
class PageRule:
    """One API's page sizes, as AWS documents them."""

    default: int | None  # items per page without maxResults; None: everything
    maximum: int  # largest maxResults accepted
    minimum: int = 1  # smallest maxResults accepted


def encode_token(key: Any) -> str:
    raw = json.dumps([_TOKEN_PREFIX, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> Any:
    try:
        padded = token + "=" * (-len(token) % 4)
        prefix, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise InvalidToken(token) from None
    if prefix != _TOKEN_PREFIX:
        raise InvalidToken(token)
    # JSON turns tuple keys into lists; compare them as tuples again.
    return tuple(key) if isinstance(key, list) else key


def page_size(max_results: int | None, rule: PageRule, cap: int | None) -> int | None:
    """How many items this page holds; None for all of them.

    The cap (`--max-page-size`, an account's `max_page_size`) shrinks pages as AWS
    may do on its own, but never turns an unpaged answer into a paged one: a
    caller that gave no maxResults to an API that only pages on request (EC2)
    still gets everything.
    """
    size = max_results if max_results is not None else rule.default
    if size is None:
        return None
    return min(size, cap) if cap else size


def cut_page(
    items: Sequence[T],
    key: Callable[[T], Any],
    size: int | None,
    token: str | None,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The page of `items` (in key order) that `token` continues, and the next token.

    Raises InvalidToken for a token this module did not make.
    """
    ordered = sorted(items, key=key, reverse=descending)
    start = 0
    if token:
        after = decode_token(token)
        try:
            start = next(
                i
                for i, item in enumerate(ordered)
                if (key(item) < after if descending else key(item) > after)
            )
        except StopIteration:
            start = len(ordered)
        except TypeError:
            raise InvalidToken(token) from None  # a token of another list's key type
    if size is None:
        return list(ordered[start:]), None
    page = list(ordered[start : start + size])
    more = start + size < len(ordered)
    return page, (encode_token(key(page[-1])) if more and page else None)
