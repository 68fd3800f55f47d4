"""The vocabulary models and stores share: which dense vectors a unit has, and a sparse
vector. Models declare and produce them; stores create collections from them."""

from dataclasses import dataclass

SPARSE = "sparse"  # the name of the BM25 vector in every collection


@dataclass(frozen=True)
class DenseSpec:
    """A dense named vector: size, and whether a unit holds several (one per passage)."""

    name: str
    size: int
    multivector: bool = False


@dataclass
class SparseVector:
    """Indices and weights, as BM25 produces them."""

    indices: list[int]
    values: list[float]


DenseVectors = dict[str, list[float] | list[list[float]]]
"""Vectors by name: one list per plain vector, a list of lists per multivector."""
