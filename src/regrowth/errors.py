"""Errors that carry a message meant for the user, not a traceback."""


class RegrowthError(Exception):
    """Base class: the message alone tells the user what is wrong and where."""


class InputError(RegrowthError):
    """An export cannot be read or does not have the expected layout."""


class ContractError(RegrowthError):
    """A data frame handed between stages breaks its contract (columns, keys)."""


class ValidationFailed(RegrowthError):
    """A trial has error-severity validation issues and may not proceed."""
