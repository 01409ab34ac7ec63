"""How a raw input file is described: where it is downloaded from and what is known about it.

The files themselves are listed in the catalogue (:data:`michigan.catalogue.SOURCES`); this module
gives their type, :class:`RemoteFile`, and one constructor per kind of host.

What verifies a download, per host:

- figshare (Tabula Muris) publishes a size and an MD5 per file through its API; the download asks
  for them (:mod:`michigan.data.figshare`) and both must match.
- GEO (sci-Plex) publishes no checksum. The sizes in the catalogue (third-party audit) must match
  the server's and the download's size; the sha256 of the first download is recorded beside the
  file (trust on first use, :mod:`michigan.data.checksums`) and every later copy is checked
  against that record.

No publisher gives a SHA-256 digest. A digest is marked *trusted* only when this project has checked
it itself; none is yet. The one digest in the catalogue comes from a third-party audit and is only
compared with a warning.

This module imports nothing but the standard library's dataclasses, so that the catalogue, which
Snakemake and the CLI import, stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

FIGSHARE_API = "https://api.figshare.com/v2"
_FIGSHARE_DOWNLOADS = "https://ndownloader.figshare.com/files"
_GEO_SAMPLES = "https://ftp.ncbi.nlm.nih.gov/geo/samples"


@dataclass(frozen=True)
class FigshareFile:
    """One file of a public figshare article.

    Attributes
    ----------
    article_id
        The article (data set) id, e.g. 5829687.
    file_id
        The file's id, the number at the end of its ``ndownloader`` URL.
    api
        Base URL of the figshare API (tests point it at a local server).
    """

    article_id: int
    file_id: int
    api: str = FIGSHARE_API

    @property
    def listing_url(self) -> str:
        """The API address that lists the article's files with their sizes and MD5 digests."""
        return f"{self.api}/articles/{self.article_id}/files?page_size=100"


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


def figshare_file(
    name: str, *, article_id: int, version: int, file_id: int, content: str
) -> RemoteFile:
    """A file of figshare article ``article_id``; its size and MD5 come from figshare's API.

    Parameters
    ----------
    name
        Local file name.
    article_id, version
        The article and the version of it that lists the file (provenance only).
    file_id
        The file's id.
    content
        What the file holds, for the provenance.
    """
    return RemoteFile(
        name=name,
        url=f"{_FIGSHARE_DOWNLOADS}/{file_id}",
        size=None,
        sha256=None,
        sha256_trusted=False,
        provenance=f"figshare article {article_id} (v{version}), file id {file_id}; {content}",
        figshare=FigshareFile(article_id=article_id, file_id=file_id),
    )


def geo_supplementary_file(
    sample: str, suffix: str, *, size: int, sha256: str | None = None, recorded_by: str
) -> RemoteFile:
    """The supplementary file ``<sample>_<suffix>`` of a GEO sample (GEO publishes no checksum).

    Parameters
    ----------
    sample
        The GEO sample, e.g. ``"GSM4150378"``.
    suffix
        The file name after the sample's prefix.
    size
        Size in bytes.
    sha256
        A third-party digest, compared with a warning only.
    recorded_by
        Who recorded ``size`` and ``sha256``, for the provenance.
    """
    name = f"{sample}_{suffix}"
    known = "size and sha256" if sha256 else "size"
    return RemoteFile(
        name=name,
        url=f"{_GEO_SAMPLES}/{sample[:-3]}nnn/{sample}/suppl/{name}",
        size=size,
        sha256=sha256,
        sha256_trusted=False,
        provenance=f"GEO {sample}; {known} recorded by {recorded_by}",
    )
