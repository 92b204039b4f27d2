"""The error family: one sentence, stable codes, and the right builtin parents."""

from __future__ import annotations

import pytest

from limelight.errors import DataError, InputError, LimelightError, NotFoundError, require_fields


def test_data_error_names_file_row_and_column() -> None:
    err = DataError("'abc' is not a number", origin="ratings.csv", row=17, column="rating")
    assert str(err) == "ratings.csv, row 17, column 'rating': 'abc' is not a number"


def test_data_error_without_location_is_just_the_sentence() -> None:
    assert str(DataError("empty file")) == "empty file"


@pytest.mark.parametrize(
    ("cls", "parent"), [(InputError, ValueError), (DataError, ValueError), (NotFoundError, LookupError)]
)
def test_errors_also_subclass_the_builtin_a_caller_would_catch(cls: type, parent: type) -> None:
    assert issubclass(cls, LimelightError)
    assert issubclass(cls, parent)


def test_error_codes_are_distinct() -> None:
    classes = [InputError, DataError, NotFoundError, LimelightError]
    assert len({c.code for c in classes}) == len(classes)


@pytest.mark.parametrize(
    ("present", "need", "error", "message"),
    [
        (["a", "b"], ("a", "stars"), InputError, "cards must have columns a and stars; missing stars (got a, b)"),
        ([], ("a", "b", "c"), DataError, "cards must have columns a, b and c; missing a, b, c (got no columns)"),
        (["a"], ("stars",), InputError, "cards must have a 'stars' column (got a)"),
    ],
)
def test_a_table_without_a_needed_column_is_refused_in_one_sentence(present, need, error, message) -> None:
    with pytest.raises(error) as caught:
        require_fields(present, need, "cards", error=error)
    assert str(caught.value) == message


def test_a_table_with_every_needed_column_passes() -> None:
    assert require_fields(["member_id", "title_id", "extra"], ("member_id", "title_id"), "interactions") is None


def test_first_line_quotes_a_library_error_in_one_line() -> None:
    from limelight.errors import first_line

    assert first_line(RuntimeError("  Catalog Error: no table\nLINE 1: select\n  ^")) == "Catalog Error: no table"
    assert first_line(RuntimeError("")) == "RuntimeError"
