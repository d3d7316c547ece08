"""Downloading files safely: several mirrors, a progress bar, an md5 check and an atomic write.

``download_file`` tries each mirror in turn. The bytes go to a temporary file in the destination
folder; only when the download is complete and its md5 checksum is right is that file renamed to its
final name (``os.replace`` is atomic). An interrupted download (Ctrl-C, a dropped connection) therefore
never leaves a half file under the real name, and a damaged file is never used.

The function that opens URLs is ``open_url``; pass ``opener=`` (any callable ``url -> response``, where
the response has ``read(n)`` and may have ``headers``) to use something else, as the tests do.
"""

import hashlib
import http.client
import os
import tempfile
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ..errors import DataError
from ..validation import boolean, positive_float, text
from ..utils import publish, unwritable_folder_message

__all__ = ["MNIST_MIRRORS", "MNIST_MD5", "md5sum", "open_url", "download_file", "file_problem",
           "check_writable", "UnwritableFolderError"]

# The two mirrors torchvision.datasets.MNIST uses, in the same order.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# The md5 checksums torchvision records for the four original gzipped files.
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

CHUNK_SIZE = 1 << 16  # read 64 KiB at a time
TIMEOUT_SECONDS = 30


def md5sum(path):
    """The md5 checksum of a file as a hex string, read in chunks (big files do not fill the memory)."""
    digest = hashlib.md5()
    try:
        with open(path, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    except IsADirectoryError:
        raise DataError(f"md5sum: path {path} is a folder, not a file; pass the path of a file") from None
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"md5sum: no file at path {path}; check the path") from None
    return digest.hexdigest()


def file_problem(path, md5):
    """Why ``path`` cannot be used: ``"missing"``, a checksum message, or ``None`` when it is fine."""
    md5 = _md5_text(md5, "file_problem")
    path = Path(path)
    if not path.is_file():
        return "missing"
    actual = md5sum(path)
    if actual != md5:
        return (f"corrupt or incomplete ({path.stat().st_size:,} bytes, md5 {actual}, expected {md5})")
    return None


class UnwritableFolderError(DataError):
    """The cache folder cannot be written (read-only, or not ours): no download can help."""


def check_writable(folder, *, fix=None):
    """Create ``folder`` if needed and make sure a file can be created in it; else ``UnwritableFolderError``.

    Tried *before* downloading, so that a read-only cache is reported as such, not as a failed
    download ("connect to the internet" would send the user the wrong way).
    """
    if fix is not None:
        fix = text(fix, "fix", "check_writable")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".nncourse-write-test.")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise UnwritableFolderError(unwritable_folder_message(folder, error, what="the MNIST files", fix=fix)) from None
    return folder


def open_url(url, timeout=TIMEOUT_SECONDS):
    """Open ``url`` for reading (``urllib``), with a user agent some servers insist on."""
    url = text(url, "url", "open_url")
    timeout = positive_float(timeout, "timeout", "open_url")
    request = urllib.request.Request(url, headers={"User-Agent": "nncourse (course data download)"})
    return urllib.request.urlopen(request, timeout=timeout)


def download_file(filename, folder, md5, *, mirrors, opener=None, quiet=False):
    """Download ``filename`` into ``folder`` from the first mirror that delivers it intact.

    ``mirrors`` are base URLs (``filename`` is appended). Each attempt streams into a temporary file
    next to the target, checks the length and the md5 checksum, and renames it into place. A failure
    (network error, short file, wrong checksum) moves on to the next mirror; when all fail, a
    ``DataError`` lists what each mirror did. Returns the path of the verified file.
    """
    quiet = boolean(quiet, "quiet", "download_file")
    filename = text(filename, "filename", "download_file")
    md5 = _md5_text(md5, "download_file")
    if isinstance(mirrors, str) or not isinstance(mirrors, (list, tuple)) or not mirrors \
            or not all(isinstance(m, str) and m for m in mirrors):
        raise DataError(f"download_file: mirrors must be a non-empty list of base URLs (str), such as "
                        f"['https://example.org/mnist/'], got {mirrors!r:.60}")
    opener = open_url if opener is None else opener
    folder = check_writable(folder, fix="choose a writable data folder")
    target = folder / filename
    failures = []
    for mirror in mirrors:
        url = mirror if mirror.endswith(filename) else mirror.rstrip("/") + "/" + filename
        try:
            _fetch_verified(url, target, md5, opener=opener, quiet=quiet)
            return target
        except (OSError, http.client.HTTPException, DataError) as error:  # URLError is an OSError
            failures.append(f"  {url}: {error}")
    raise DataError(f"could not download {filename}; every mirror failed:\n" + "\n".join(failures))


def _md5_text(md5, who):
    """``md5`` after checking it is a hex string of 32 digits."""
    if not isinstance(md5, str) or len(md5) != 32 or any(c not in "0123456789abcdefABCDEF" for c in md5):
        raise DataError(f"{who}: md5 must be the file's checksum, 32 hex digits such as "
                        f"'f68b3c2dcbeaaa9fbdd348bbdeb94873', got {md5!r:.40}")
    return md5.lower()


def _fetch_verified(url, target, md5, *, opener, quiet):
    """One attempt: stream ``url`` into a temporary file, verify it, then move it to ``target``."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        received = 0
        with os.fdopen(handle, "wb") as out, opener(url) as response:
            expected = _content_length(response)
            with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=target.name,
                      disable=quiet, leave=False) as bar:
                while chunk := response.read(CHUNK_SIZE):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if expected is not None and received != expected:
            raise DataError(f"incomplete download: received {received:,} of {expected:,} bytes")
        if digest.hexdigest() != md5:
            raise DataError(f"checksum mismatch: md5 {digest.hexdigest()}, expected {md5}")
        publish(temporary, target)  # mode 0o644 (with the usual umask), not mkstemp's 0o600
    except BaseException:  # also KeyboardInterrupt: never leave a half file behind
        Path(temporary).unlink(missing_ok=True)
        raise


def _content_length(response):
    headers = getattr(response, "headers", None)
    length = headers.get("Content-Length") if headers is not None else None
    try:
        return int(length) if length is not None else None
    except ValueError:
        return None
