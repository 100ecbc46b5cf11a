"""One vocabulary of argument names for the public API (see ``docs/api_vocabulary.md``).

* ``n_draws``: every resampling or simulation count (bootstrap draws, permutations, placebo
  replications, Monte Carlo simulations);
* ``level``: confidence level of every interval (checked by :func:`~.results.check_level`);
* ``seed``: ``None`` means :data:`~effectmeting.defaults.DEFAULT_SEED`, so a default call is
  reproducible (:func:`resolve_seed`);
* ``weights``: observation weights (a column name); ``cluster``: the cluster column.

Old names keep working for one release: :func:`renamed_arguments` accepts them as keyword
aliases and emit a :class:`~effectmeting.errors.RenamedArgumentWarning` (a
``DeprecationWarning`` and an ``EffectmetingWarning``) naming the new one.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from effectmeting.defaults import DEFAULT_SEED
from effectmeting.errors import OptionError, RenamedArgumentWarning

F = TypeVar("F", bound=Callable[..., Any])


def resolve_seed(seed: int | None) -> int:
    """``seed``, or :data:`DEFAULT_SEED` for ``None`` (a default call gives the same numbers twice)."""
    return DEFAULT_SEED if seed is None else seed


def renamed_arguments(**old_to_new: str) -> Callable[[F], F]:
    """Decorator: accept each deprecated keyword ``old`` as an alias of ``new``.

    ``@renamed_arguments(bootstrap="n_draws")`` lets ``f(bootstrap=99)`` run as
    ``f(n_draws=99)`` with a :class:`RenamedArgumentWarning`; giving both is an :class:`OptionError`.
    The wrapped function keeps its signature (``inspect.signature`` shows the new names only);
    the mapping is kept in ``__renamed_arguments__`` for tests and documentation.
    """
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise OptionError(f"{func.__name__}: give {new}= only; {old}= is its deprecated name")
                warnings.warn(f"{func.__name__}: {old}= is deprecated and will be removed in the next "
                              f"release; use {new}= (same meaning)", RenamedArgumentWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.__renamed_arguments__ = dict(old_to_new)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]
    return decorate
