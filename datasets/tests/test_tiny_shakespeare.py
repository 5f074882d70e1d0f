"""load_tiny_shakespeare with a generated text: where it looks, what it verifies, the split.

`fake_text` patches the pinned SHA-256 to a small generated text and isolates
the environment; `http_mirror` (see conftest) is a real HTTP server on 127.0.0.1.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from fromscratch.datasets import (
    TINY_SHAKESPEARE_CHARS,
    DatasetError,
    decode_chars,
    encode_chars,
    load_tiny_shakespeare,
    tiny_shakespeare,
    tiny_shakespeare_search_dirs,
)

MIRRORS_ENV = "FROMSCRATCH_TINYSHAKESPEARE_MIRRORS"


@pytest.fixture
def fake_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> bytes:
    """1,000 characters drawn from the vocabulary, accepted as the genuine file."""
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list(TINY_SHAKESPEARE_CHARS), size=1000))
    body = text.encode()
    monkeypatch.setattr(
        tiny_shakespeare, "TINY_SHAKESPEARE_SHA256", hashlib.sha256(body).hexdigest()
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("FROMSCRATCH_DATA", raising=False)
    monkeypatch.delenv(MIRRORS_ENV, raising=False)
    return body


def write(directory: Path, body: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "input.txt").write_bytes(body)
    return directory


def test_first_ninety_percent_train_last_ten_validation(fake_text, tmp_path: Path) -> None:
    root = write(tmp_path / "root", fake_text)
    train = load_tiny_shakespeare("train", root=root, download=False)
    validation = load_tiny_shakespeare("validation", root=root, download=False)
    assert len(train) == 900
    assert len(validation) == 100
    assert (train + validation).encode() == fake_text


def test_unknown_split_is_a_value_error(fake_text) -> None:
    with pytest.raises(
        ValueError, match=r"split must be one of \('train', 'validation'\), got 'test'"
    ):
        load_tiny_shakespeare("test")  # type: ignore[arg-type]


def test_search_dirs_are_root_then_data_then_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tiny_shakespeare_search_dirs(tmp_path / "root") == [
        tmp_path / "root",
        tmp_path / "shared" / "tinyshakespeare",
        tmp_path / "xdg" / "fromscratch" / "tinyshakespeare",
    ]


def test_found_through_fromscratch_data(fake_text, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    write(tmp_path / "shared" / "tinyshakespeare", fake_text)
    assert load_tiny_shakespeare("validation", download=False).encode() == fake_text[900:]


def test_a_damaged_file_is_refused_naming_it(fake_text, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    damaged = write(tmp_path / "shared" / "tinyshakespeare", fake_text[:-1] + b"?") / "input.txt"
    expected = tiny_shakespeare.TINY_SHAKESPEARE_SHA256
    with pytest.raises(DatasetError, match=f"^{damaged}: sha256 mismatch: expected {expected}, "):
        load_tiny_shakespeare()


def test_a_character_outside_the_vocabulary_names_file_and_position(
    monkeypatch, tmp_path: Path
) -> None:
    body = "To be, or not to be: that is the qu\u00e9stion".encode()
    monkeypatch.setattr(
        tiny_shakespeare, "TINY_SHAKESPEARE_SHA256", hashlib.sha256(body).hexdigest()
    )
    root = write(tmp_path / "root", body)
    with pytest.raises(
        DatasetError, match=f"^{root / 'input.txt'}: character '\u00e9' at position 35 is not one"
    ):
        load_tiny_shakespeare(root=root, download=False)


def test_missing_file_without_download_says_where_to_put_it(fake_text, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as error:
        load_tiny_shakespeare(root=tmp_path / "empty", download=False)
    message = str(error.value)
    assert message.startswith("Tiny Shakespeare file input.txt not found. Searched, in order:\n")
    assert f"{tmp_path / 'empty'}  (root= argument)" in message
    assert "$FROMSCRATCH_DATA is not set" in message
    assert message.endswith("or allow download=True.")


def test_downloads_into_the_user_cache_never_the_data_dir(
    fake_text, http_mirror, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MIRRORS_ENV, http_mirror.serve("ts", {"input.txt": fake_text}))
    shared = tmp_path / "shared" / "tinyshakespeare"
    shared.mkdir(parents=True)
    monkeypatch.setenv("FROMSCRATCH_DATA", str(shared.parent))
    assert load_tiny_shakespeare("train").encode() == fake_text[:900]
    cache = tiny_shakespeare_search_dirs()[-1]
    assert [p.name for p in cache.iterdir()] == ["input.txt"]  # no temporary file left
    assert list(shared.iterdir()) == []
    requests = len(http_mirror.requests)
    assert load_tiny_shakespeare("train", download=False).encode() == fake_text[:900]
    assert len(http_mirror.requests) == requests  # cached: no second request


def test_a_corrupt_mirror_is_skipped_and_leaves_nothing(
    fake_text, http_mirror, monkeypatch, tmp_path: Path
) -> None:
    corrupt = http_mirror.serve("corrupt", {"input.txt": fake_text.upper()})
    truncated = http_mirror.serve("truncated", {"input.txt": fake_text}, truncate=True)
    monkeypatch.setenv(MIRRORS_ENV, f"{corrupt} {truncated}")
    root = tmp_path / "root"
    with pytest.raises(DatasetError) as error:
        load_tiny_shakespeare(root=root)
    message = str(error.value)
    assert message.startswith(f"{root / 'input.txt'}: download failed from every mirror:")
    assert f"{corrupt}input.txt: sha256 mismatch" in message
    assert f"{truncated}input.txt: " in message
    assert list(root.iterdir()) == []
    good = http_mirror.serve("good", {"input.txt": fake_text})
    monkeypatch.setenv(MIRRORS_ENV, f"{corrupt},{good}")
    assert load_tiny_shakespeare("validation", root=root).encode() == fake_text[900:]
    assert [p.name for p in root.iterdir()] == ["input.txt"]


def test_default_mirror_is_char_rnn_raw_file() -> None:
    [mirror] = tiny_shakespeare.TINY_SHAKESPEARE_MIRRORS
    assert f"{mirror}input.txt" == (
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
    )


def test_encode_decode_round_trip_and_errors() -> None:
    assert len(TINY_SHAKESPEARE_CHARS) == 65
    assert sorted(TINY_SHAKESPEARE_CHARS) == list(TINY_SHAKESPEARE_CHARS)
    ids = encode_chars("First Citizen:\n")
    assert ids.dtype == np.int64
    assert ids[:3].tolist() == [18, 47, 56]  # F, i, r
    assert decode_chars(ids) == "First Citizen:\n"
    assert decode_chars(np.arange(65)) == TINY_SHAKESPEARE_CHARS
    with pytest.raises(ValueError, match=r"character '\\x7f' at position 1 is not one of the 65"):
        encode_chars("a\x7f")
    with pytest.raises(ValueError, match=r"token id 65 at position 2 is outside 0\.\.64"):
        decode_chars([0, 1, 65])
