"""The error type for problems a user can fix (bad flags, bad files, bad data)."""


class KubeslimError(Exception):
    """A user-facing error: the CLI prints its message, without a traceback, and exits non-zero.

    The message must name what is wrong (the file, record or flag) and, where it helps, what was
    expected instead.
    """
