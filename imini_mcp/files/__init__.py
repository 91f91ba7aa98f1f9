"""The files layer: reference images read from this machine, and verified downloads of the results.

Local images are checked (format, size, allowed folders) and turned into what imini receives; result files
are downloaded, verified and saved atomically inside the output folder. Other layers import from here.
"""

from imini_mcp.files.downloads import DownloadFailed, DownloadPolicy, SavedFile, download_file
from imini_mcp.files.images import make_resolver, shorten_data_uris
from imini_mcp.files.part_files import confined_path, sweep_partial_downloads

__all__ = [
    "DownloadFailed",
    "DownloadPolicy",
    "SavedFile",
    "confined_path",
    "download_file",
    "make_resolver",
    "shorten_data_uris",
    "sweep_partial_downloads",
]
