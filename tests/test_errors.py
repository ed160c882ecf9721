"""The error hierarchy: one root, and each subclass is also the matching built-in."""

import pytest

import borderkit
from borderkit import errors


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.ValidationError, ValueError),
        (errors.CRSError, ValueError),
        (errors.FileFormatError, ValueError),
        (errors.EmptyFileError, ValueError),
        (errors.EncodingError, UnicodeError),
        (errors.DatasetNotFoundError, KeyError),
        (errors.RegistryError, RuntimeError),
        (errors.OptionalDependencyError, ImportError),
        (errors.OfflineError, ConnectionError),
    ],
)
def test_every_error_is_a_borderkit_error_and_a_builtin(cls, builtin):
    assert issubclass(cls, errors.BorderkitError)
    assert issubclass(cls, builtin)
    assert getattr(borderkit, cls.__name__, cls) is cls


def test_validation_error_lists_every_problem_in_one_line():
    probs = [
        errors.Problem("latitude 123 is out of range", path="a.csv", row=3, column="lat"),
        errors.Problem("date 'yesterday' cannot be parsed", path="a.csv", row=7, column="date"),
    ]
    err = errors.ValidationError(problems=probs, path="a.csv")
    text = str(err)
    assert "\n" not in text
    assert "a.csv" in text and "row 3" in text and "'lat'" in text and "1 more" in text
    assert err.rows == [3, 7]
    assert err.report().splitlines() == [str(p) for p in probs]


def test_dataset_not_found_message_is_not_quoted_like_keyerror():
    err = errors.DatasetNotFoundError("unknown dataset 'x'")
    assert str(err) == "unknown dataset 'x'"
