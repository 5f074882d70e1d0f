"""The one exception every data problem raises."""


class DatasetError(Exception):
    """A dataset file is missing, corrupt, or not what was expected.

    The message always names the file (full path, or the URL for a download),
    what is wrong with it, and what was expected instead, so that it can be
    fixed without reading the loader's source.
    """
