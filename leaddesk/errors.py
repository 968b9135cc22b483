"""Expected failures: each carries a message a manager can act on."""


class LeadDeskError(Exception):
    """A problem caused by the environment or by input, not by a bug."""


class DataFileError(LeadDeskError):
    """The data file cannot be opened, read or written."""


class InputError(LeadDeskError):
    """A value the manager gave is not usable (a name, an interval, a file)."""


class NotFoundError(InputError):
    """A named list, affiliate, offer or distribution does not exist."""
