"""Explanations a member understands: which titles and attributes earned a recommendation.

The engine gathers the evidence (the model's per-title contributions, the metadata a title shares
with the member's profile, popularity in their country, release recency, progress) and this module
turns it into one sentence — "Because you watched Dark and liked thrillers", "Popular in Brazil
this week", "New on limelight", "Continue Season 2, Episode 4" — and a typed record for the API.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from limelight.personalize.catalog import genre_phrase

__all__ = [
    "AttributeContribution",
    "TitleContribution",
    "TitleExplanation",
    "attribute_phrase",
    "compose_sentence",
    "join_names",
]

SERVICE_NAME = "limelight"


class TitleContribution(BaseModel):
    """A title in the member's history and how much it added to the score."""

    title_id: str
    name: str
    weight: float


class AttributeContribution(BaseModel):
    """A piece of metadata shared with the member's taste ('genre', 'performer', 'director', …)."""

    kind: str
    value: str
    phrase: str
    weight: float


class TitleExplanation(BaseModel):
    """Why `title_id` is recommended to `member_id`, strongest evidence first."""

    member_id: str
    title_id: str
    name: str
    sentence: str
    because_titles: list[TitleContribution] = Field(default_factory=list)
    because_attributes: list[AttributeContribution] = Field(default_factory=list)
    collaborative_share: float = Field(
        description="share of the score from viewing patterns (the rest from metadata)", ge=0, le=1
    )
    popular_in: str | None = None
    popularity_rank: int | None = None
    new_on_service: bool = False
    progress: str | None = None
    score: float | None = None


def attribute_phrase(token: str) -> tuple[str, str, str]:
    """'genre:Thriller' → ('genre', 'Thriller', 'liked thrillers'); people read 'with NAME'."""
    kind, _, value = token.partition(":")
    if kind == "genre":
        return kind, value, f"liked {genre_phrase(value)}"
    if kind == "performer":
        return kind, value, f"watch titles with {value}"
    if kind == "director":
        return kind, value, f"watch titles by {value}"
    if kind == "language":
        return kind, value, f"watch titles in the original language '{value}'"
    return kind, value, f"like {value} titles"


def join_names(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def compose_sentence(
    *,
    titles: list[str],
    attributes: list[AttributeContribution],
    popular_in: str | None = None,
    new_on_service: bool = False,
    progress: str | None = None,
    verb: str | list[str] = "watched",
) -> str:
    """One sentence, strongest evidence first: progress, then titles (+ a genre), then metadata, then popularity.

    `verb` is one for all titles, or one per title: "Because you played Gentle Orbit and watched The
    Burning Voyage" (a game and a film), not "watched" both."""
    if progress:
        return progress
    genre = next((a for a in attributes if a.kind == "genre"), None)
    person = next((a for a in attributes if a.kind in ("performer", "director")), None)
    if titles:
        shown = titles[:2]
        given = [verb] if isinstance(verb, str) else list(verb)
        verbs = [given[min(i, len(given) - 1)] if given else "watched" for i in range(len(shown))]
        if len(set(verbs)) == 1:
            sentence = f"Because you {verbs[0]} {join_names(shown)}"
        else:
            sentence = "Because you " + " and ".join(f"{v} {name}" for v, name in zip(verbs, shown, strict=True))
        if genre is not None:  # "A and B, and liked thrillers": the comma keeps the titles one list
            sentence += f"{',' if len(titles) > 1 else ''} and {genre.phrase}"
        return sentence
    if genre is not None or person is not None:
        parts = [a.phrase for a in (genre, person) if a is not None]
        sentence = "Because you " + " and ".join(parts)
        if new_on_service:
            sentence = f"New on {SERVICE_NAME}: " + sentence[0].lower() + sentence[1:]
        return sentence
    if new_on_service:
        return f"New on {SERVICE_NAME}"
    if popular_in:
        return f"Popular in {popular_in} this week"
    return f"Popular on {SERVICE_NAME}"
