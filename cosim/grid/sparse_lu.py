"""Sparse LU factorisation for Newton Jacobians of one fixed sparsity pattern.

Why a module of its own: a Jacobian's pattern is fixed for a topology and bus
split, so its fill-reducing ordering (the symbolic analysis) can be computed
once and only the numeric factorisation redone per iteration. scipy's
``splu`` cannot keep an ordering, and SuperLU's ordering dominates its time
on large cases; SuiteSparse KLU (through ``kvxopt``) separates the two, as
power-flow solvers do (MATPOWER/KLU, lightsim2grid). Without ``kvxopt``, scipy's
SuperLU is used for every factorisation (same answers, slower).

A :class:`SparseLU` also remembers its last factorisation (``last``), so a
warm re-solve may start with it (a "dishonest" Newton step) instead of
factorising again; :mod:`cosim.grid.newton` decides when that is safe.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from cosim.grid.network import IntArray

_KVX: Any
try:  # SuiteSparse KLU: keeps the symbolic analysis between factorisations
    import kvxopt
    import kvxopt.klu

    _KVX = kvxopt
except ImportError:  # pragma: no cover - exercised on machines without kvxopt
    _KVX = None

HAVE_KLU = _KVX is not None


class SingularMatrix(ArithmeticError):
    """The matrix is singular (numerically): no Newton step exists."""


class Factor(Protocol):
    """A numeric LU factorisation that solves ``A x = b`` (b: n, or n x k)."""

    def solve(self, b: np.ndarray) -> np.ndarray: ...


class _KluFactor:
    def __init__(self, symbolic: Any, numeric: Any, a: Any, n: int) -> None:
        self._symbolic, self._numeric, self._a, self._n = symbolic, numeric, a, n

    def solve(self, b: np.ndarray) -> np.ndarray:
        rhs = np.asfortranarray(b.reshape(self._n, -1), dtype=np.float64)
        x = _KVX.matrix(rhs)
        _KVX.klu.solve(self._a, self._symbolic, self._numeric, x)
        out = np.array(x)
        return out.reshape(b.shape)


class _SuperLuFactor:
    def __init__(self, lu: object) -> None:
        self._lu = lu

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self._lu.solve(b)  # type: ignore[attr-defined,no-any-return]


class SparseLU:
    """LU factoriser for square matrices with the CSC pattern ``indices``/``indptr``.

    ``factor(data)`` takes the values in CSC order and returns a
    :class:`Factor`; it raises :class:`SingularMatrix` for a singular matrix.
    The symbolic analysis is done at the first factorisation and reused.
    """

    def __init__(self, indices: IntArray, indptr: IntArray, size: int, *,
                 use_klu: bool = HAVE_KLU) -> None:
        self.size = size
        self._indices, self._indptr = indices, indptr
        self._use_klu = use_klu and HAVE_KLU and size > 0
        self._a: Any = None
        self._symbolic: Any = None
        self.last: Factor | None = None

    def factor(self, data: np.ndarray) -> Factor:
        if not self._use_klu:
            jac = sp.csc_matrix((data, self._indices, self._indptr), shape=(self.size, self.size))
            try:
                f: Factor = _SuperLuFactor(splu(jac, permc_spec="MMD_AT_PLUS_A"))
            except RuntimeError as e:
                raise SingularMatrix(str(e)) from None
            self.last = f
            return f
        if self._a is None:
            col = np.repeat(np.arange(self.size, dtype=np.int64), np.diff(self._indptr))
            self._a = _KVX.spmatrix(_KVX.matrix(np.ascontiguousarray(data, dtype=np.float64)),
                                    _KVX.matrix(self._indices.astype(np.int64)),
                                    _KVX.matrix(col), (self.size, self.size))
        else:
            self._a.V = _KVX.matrix(np.ascontiguousarray(data, dtype=np.float64))
        try:
            if self._symbolic is None:
                self._symbolic = _KVX.klu.symbolic(self._a)
            numeric = _KVX.klu.numeric(self._a, self._symbolic)
        except ArithmeticError as e:
            raise SingularMatrix(str(e)) from None
        f = _KluFactor(self._symbolic, numeric, self._a, self.size)
        self.last = f
        return f
