"""Pages of the dataset, version and job lists: {"count", "next", "previous", "results"} (limit/offset).
Frame lists page with keyset cursors instead (frames.selectors.query), which stay fast at any depth."""
from rest_framework.pagination import LimitOffsetPagination


class ListPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000
