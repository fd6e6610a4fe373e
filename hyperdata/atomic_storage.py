"""Local storage of previews, renditions and tiles whose files appear whole or not at all.

Each file is written to a temporary file beside its final name and renamed over it (rename is atomic on one
file system): a worker killed mid-write, or a disk that fills up, leaves no half-written preview under a name
the web serves, and the temporary file of a failed write is removed. A name is the key of its content (the
same name is the same bytes), so a second write replaces the file instead of adding `name_<random>`.
"""
from __future__ import annotations

import os
import tempfile

from django.core.files.storage import FileSystemStorage

TEMPORARY_PREFIX = ".partial-"


class AtomicFileSystemStorage(FileSystemStorage):
    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, mode=self.directory_permissions_mode or 0o777, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
            # mkstemp makes the file 0600; workers and web may run as different users.
            os.chmod(temporary, self.file_permissions_mode or 0o644)
            os.replace(temporary, full_path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
        return str(name).replace("\\", "/")

