"""An upload handler that stops reading a file once it passes the size limit.

It runs before Django's own handlers, so an oversized file is never written in
full, not even to a temporary file, and never reaches storage. The view reads
``request.uploads_refused_for_size`` to put the error next to the field.
https://docs.djangoproject.com/en/5.2/topics/http/file-uploads/#upload-handlers
"""

from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from .checks import display_name, max_upload_bytes


class SizeLimitUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        if not hasattr(self.request, "uploads_refused_for_size"):
            self.request.uploads_refused_for_size = []

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.request.uploads_refused_for_size.append(display_name(self.file_name))
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None
