"""Downloads without a network: file:// mirrors in tmp_path, a loopback HTTP server, fake openers."""

import hashlib
import http.server
import threading

import pytest

from nncourse.data import download
from nncourse.data.download import download_file, file_problem, md5sum
from nncourse.errors import DataError

CONTENT = bytes(range(256)) * 300  # 76,800 bytes: several read chunks
GOOD_MD5 = hashlib.md5(CONTENT).hexdigest()
NAME = "t10k-labels-idx1-ubyte.gz"


def make_mirror(folder, content):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / NAME).write_bytes(content)
    return folder.as_uri() + "/"


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_the_mirrors_and_checksums_are_torchvisions():
    assert download.MNIST_MIRRORS[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert download.MNIST_MIRRORS[1] == "http://yann.lecun.com/exdb/mnist/"
    assert download.MNIST_MD5["t10k-images-idx3-ubyte.gz"] == "9fb629c4189551a2d022fa330f9573f3"
    assert download.MNIST_MD5["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert len(set(download.MNIST_MD5.values())) == 4


def test_a_good_mirror_delivers_a_verified_file(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", CONTENT)
    target = download_file(NAME, tmp_path / "raw", GOOD_MD5, mirrors=[mirror], quiet=True)
    assert target.read_bytes() == CONTENT
    assert md5sum(target) == GOOD_MD5
    assert leftovers(tmp_path / "raw") == []


def test_a_checksum_mismatch_moves_on_to_the_next_mirror(tmp_path):
    bad = make_mirror(tmp_path / "bad", CONTENT[:-1] + b"?")
    good = make_mirror(tmp_path / "good", CONTENT)
    target = download_file(NAME, tmp_path / "raw", GOOD_MD5, mirrors=[bad, good], quiet=True)
    assert target.read_bytes() == CONTENT
    assert leftovers(tmp_path / "raw") == []


def test_when_every_mirror_fails_the_error_names_each_one_and_no_file_is_left(tmp_path):
    bad = make_mirror(tmp_path / "bad", b"not the file")
    empty = (tmp_path / "empty")
    empty.mkdir()
    with pytest.raises(DataError) as caught:
        download_file(NAME, tmp_path / "raw", GOOD_MD5, mirrors=[bad, empty.as_uri() + "/"], quiet=True)
    message = str(caught.value)
    assert "every mirror failed" in message and NAME in message
    assert "checksum mismatch" in message and bad in message and empty.as_uri() in message
    assert list((tmp_path / "raw").iterdir()) == []


class _Interrupted:
    """A response that delivers one chunk and then behaves as if the learner pressed Ctrl-C."""

    headers = {"Content-Length": str(len(CONTENT))}

    def __init__(self, url):
        self.calls = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        self.calls += 1
        if self.calls > 1:
            raise KeyboardInterrupt
        return CONTENT[:n]


def test_ctrl_c_during_a_download_leaves_no_half_file(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        download_file(NAME, tmp_path, GOOD_MD5, mirrors=["http://example.invalid/"], opener=_Interrupted,
                      quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_the_module_level_opener_can_be_replaced(tmp_path, monkeypatch):
    seen = []

    def fake_open(url):
        seen.append(url)
        return (tmp_path / "src").open("rb")

    (tmp_path / "src").write_bytes(CONTENT)
    monkeypatch.setattr(download, "open_url", fake_open)
    download_file(NAME, tmp_path / "raw", GOOD_MD5, mirrors=["https://mirror.example/data"], quiet=True)
    assert seen == [f"https://mirror.example/data/{NAME}"]
    assert (tmp_path / "raw" / NAME).read_bytes() == CONTENT


def test_the_progress_bar_is_shown_unless_quiet(tmp_path, capsys):
    mirror = make_mirror(tmp_path / "mirror", CONTENT)
    download_file(NAME, tmp_path / "a", GOOD_MD5, mirrors=[mirror], quiet=False)
    assert NAME in capsys.readouterr().err
    download_file(NAME, tmp_path / "b", GOOD_MD5, mirrors=[mirror], quiet=True)
    assert NAME not in capsys.readouterr().err


class _Handler(http.server.BaseHTTPRequestHandler):
    """/good/NAME: the file; /short/NAME: promises more bytes than it sends; anything else: 404."""

    def do_GET(self):
        if self.path == f"/good/{NAME}":
            self.send_response(200)
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            self.wfile.write(CONTENT)
        elif self.path == f"/short/{NAME}":
            self.send_response(200)
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            self.wfile.write(CONTENT[: len(CONTENT) // 2])
            self.close_connection = True
        else:
            self.send_error(404)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def loopback_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_mirrors_short_reads_and_404s_are_skipped(tmp_path, loopback_server):
    mirrors = [f"{loopback_server}/short/", f"{loopback_server}/missing/", f"{loopback_server}/good/"]
    target = download_file(NAME, tmp_path, GOOD_MD5, mirrors=mirrors, quiet=True)
    assert target.read_bytes() == CONTENT
    assert leftovers(tmp_path) == []


def test_http_failures_are_explained(tmp_path, loopback_server):
    with pytest.raises(DataError) as caught:
        download_file(NAME, tmp_path, GOOD_MD5, mirrors=[f"{loopback_server}/short/", f"{loopback_server}/nope/"],
                      quiet=True)
    message = str(caught.value)
    assert "incomplete download" in message or "IncompleteRead" in message
    assert "404" in message
    assert list(tmp_path.iterdir()) == []


def test_file_problem_tells_missing_corrupt_and_good_apart(tmp_path):
    path = tmp_path / NAME
    assert file_problem(path, GOOD_MD5) == "missing"
    path.write_bytes(CONTENT[:1000])
    assert "corrupt or incomplete" in file_problem(path, GOOD_MD5)
    path.write_bytes(CONTENT)
    assert file_problem(path, GOOD_MD5) is None
