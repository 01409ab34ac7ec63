"""Where the raw files of the real datasets come from, with the sizes and digests known for them.

What verifies a download, per source:

- figshare (Tabula Muris) publishes a size and an MD5 per file through its API; the download asks
  for them (:mod:`michigan.data.figshare`) and both must match.
- GEO (sci-Plex) publishes no checksum. The sizes below (third-party audit) must match the server's
  and the download's size; the sha256 of the first download is recorded beside the file (trust on
  first use, :mod:`michigan.data.checksums`) and every later copy is checked against that record.

No publisher gives a SHA-256 digest. A digest is marked *trusted* only when this project has checked
it itself; none is yet. The one digest listed here comes from a third-party audit and is only
compared with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from michigan.data.figshare import FigshareFile

if TYPE_CHECKING:
    from collections.abc import Mapping

_FIGSHARE = "https://ndownloader.figshare.com/files"
_GEO_GSM4150378 = "https://ftp.ncbi.nlm.nih.gov/geo/samples/GSM4150nnn/GSM4150378/suppl"


@dataclass(frozen=True)
class RemoteFile:
    """One raw input file: its local name, its URL and what is known about its content.

    Attributes
    ----------
    name
        File name under the dataset's resources directory.
    url
        HTTP(S) address the file is downloaded from.
    size
        Size in bytes, where a public source gives it; the server's size and the download's must
        equal it.
    sha256
        Hex SHA-256 digest, where one is known.
    sha256_trusted
        ``True``: a mismatch with ``sha256`` is an error. ``False``: ``sha256`` is a third-party
        value; a mismatch only warns and the digest of the first download is recorded instead.
    provenance
        Where the URL, size and digest were taken from.
    figshare
        The figshare article and file, whose published size and MD5 a download must match.
    """

    name: str
    url: str
    size: int | None
    sha256: str | None
    sha256_trusted: bool
    provenance: str
    figshare: FigshareFile | None = None


def _figshare_facs(name: str, *, file_id: int, content: str) -> RemoteFile:
    """A file of figshare article 5829687 (Tabula Muris FACS v2); size and MD5 from figshare's API."""
    return RemoteFile(
        name=name,
        url=f"{_FIGSHARE}/{file_id}",
        size=None,
        sha256=None,
        sha256_trusted=False,
        provenance=f"figshare article 5829687 (v2), file id {file_id}; {content}",
        figshare=FigshareFile(article_id=5829687, file_id=file_id),
    )


#: Tabula Muris FACS (Smart-seq2) v2, figshare article 5829687; roles are the reader's arguments.
TABULA_MURIS_FACS: Mapping[str, RemoteFile] = {
    "counts": _figshare_facs("FACS.zip", file_id=10700143, content="20 FACS/<Tissue>-counts.csv"),
    "annotations": _figshare_facs(
        "annotations_FACS.csv", file_id=13088129, content="44,949 annotated cells"
    ),
}


def _geo_sciplex3(suffix: str, *, size: int, sha256: str | None = None) -> RemoteFile:
    """A supplementary file of GEO sample GSM4150378 (sizes and digest: third-party audit)."""
    name = f"GSM4150378_sciPlex3_{suffix}"
    known = "size and sha256" if sha256 else "size"
    return RemoteFile(
        name=name,
        url=f"{_GEO_GSM4150378}/{name}",
        size=size,
        sha256=sha256,
        sha256_trusted=False,
        provenance=f"GEO GSM4150378; {known} recorded by a third-party sci-Plex audit",
    )


#: sci-Plex 3 (GEO GSM4150378 of series GSE139944); roles are the reader's arguments.
SCIPLEX3: Mapping[str, RemoteFile] = {
    "matrix": _geo_sciplex3(
        "A549_MCF7_K562_screen_UMI.count.matrix.gz",
        size=3_096_224_606,
        sha256="7d632716aa6ed0fc1780996003d0abc440ff78340609bceaaa4c8ade9345d00a",
    ),
    "genes": _geo_sciplex3("A549_MCF7_K562_screen_gene.annotations.txt.gz", size=806_168),
    "cells": _geo_sciplex3("A549_MCF7_K562_screen_cell.annotations.txt.gz", size=2_770_264),
    "pdata": _geo_sciplex3("pData.txt.gz", size=84_673_357),
}

#: Every downloadable dataset by name, as the CLI and the Snakemake rules refer to them.
DATASET_FILES: Mapping[str, Mapping[str, RemoteFile]] = {
    "tabula_muris": TABULA_MURIS_FACS,
    "sciplex3": SCIPLEX3,
}


def remote_file(dataset: str, role: str) -> RemoteFile:
    """Return the :class:`RemoteFile` of ``role`` (e.g. ``"matrix"``) in ``dataset``.

    Raises
    ------
    KeyError
        If the dataset or the role is unknown; the message lists the known ones.
    """
    if dataset not in DATASET_FILES:
        msg = f"unknown dataset {dataset!r}; downloadable datasets are {sorted(DATASET_FILES)}"
        raise KeyError(msg)
    files = DATASET_FILES[dataset]
    if role not in files:
        msg = f"dataset {dataset!r} has no file role {role!r}; roles are {sorted(files)}"
        raise KeyError(msg)
    return files[role]
