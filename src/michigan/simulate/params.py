"""Simulation parameters: one frozen dataclass per simulator, validated on construction.

Every field carries a :class:`ParamSpec` in its metadata (type, allowed range, per-batch or per-path
shape, Splatter name, description). That metadata is the single list of parameters: validation,
:func:`param_specs`, :func:`json_schema_properties` (for the configuration schema) and the rpy2
backend's translation to Splatter's dotted names are all read from it.

:class:`SplatParams` holds every ``newSplatParams`` parameter of Splatter 1.22.1 that the *paths*
model uses, under its Splatter name in snake_case (``path.nSteps`` -> ``path_n_steps``), with
Splatter's defaults. Deliberate differences from Splatter's own checks (``SplatParams`` validity in
1.22.1): ``seed`` has no random default (pass it); ``group_prob`` that does not sum to 1 is an error
instead of being rescaled with a warning; ``group_prob`` entries are range-checked (1.22.1 checks
``de.prob`` twice instead); ``mean_shape``, ``mean_rate`` and ``bcv_df`` must be > 0 (0 would give a
degenerate gamma / chi-squared draw).
"""

from __future__ import annotations

import collections
import dataclasses
import difflib
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Self

import numpy as np

ParamShape = Literal["scalar", "per_batch", "per_path", "vector"]
DROPOUT_TYPES: tuple[str, ...] = ("none", "experiment", "batch", "group", "cell")

#: relative tolerance of R's ``all.equal``, which Splatter uses for ``sum(group.prob) == 1``
GROUP_PROB_RTOL = 1.5e-8


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """What one simulation parameter is and which values it accepts.

    Attributes
    ----------
    name
        Python / configuration name (snake_case).
    splatter_name
        Name in Splatter's ``SplatParams`` (``None`` for parameters of our own, e.g. the screen's).
    dtype
        Element type: ``int``, ``float``, ``bool`` or ``str``.
    shape
        ``"scalar"``; ``"per_batch"`` / ``"per_path"`` (one value, recycled, or one per batch / path);
        ``"vector"`` (a list whose length defines something, e.g. ``batch_cells``).
    lower, upper
        Inclusive bounds of every element (``None``: unbounded).
    lower_open
        Whether ``lower`` itself is excluded.
    allow_inf
        Whether ``+inf`` is accepted (only ``bcv_df``).
    choices
        Allowed strings for ``str`` parameters.
    description
        One line for the configuration schema and the documentation.
    min_items
        Fewest values a non-scalar parameter accepts.
    default
        Default value (``None`` when the parameter is required).
    required
        Whether the parameter has no default and must be given.
    """

    name: str
    splatter_name: str | None
    dtype: type
    shape: ParamShape
    lower: float | None
    upper: float | None
    lower_open: bool
    allow_inf: bool
    choices: tuple[str, ...] | None
    description: str
    min_items: int = 1
    default: Any = None
    required: bool = False

    def expectation(self) -> str:
        """Human-readable description of the accepted values, e.g. ``"a number in [0, 1]"``."""
        if self.dtype is bool:
            return "true or false"
        if self.dtype is str:
            return (
                "a string"
                if self.choices is None
                else "one of " + ", ".join(map(repr, self.choices))
            )
        noun = "an integer" if self.dtype is int else "a number"
        if self.lower is not None and self.upper is not None:
            return f"{noun} in {'(' if self.lower_open else '['}{_fmt(self.lower)}, {_fmt(self.upper)}]"
        if self.lower is not None:
            bound = f"{'>' if self.lower_open else '>='} {_fmt(self.lower)}"
            return f"{noun} {bound}" + (" (inf allowed)" if self.allow_inf else "")
        return f"{noun} (any finite value)"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def param(
    default: Any = dataclasses.MISSING,
    *,
    description: str,
    dtype: type = float,
    shape: ParamShape = "scalar",
    splatter: str | None = None,
    lower: float | None = None,
    upper: float | None = None,
    lower_open: bool = False,
    allow_inf: bool = False,
    choices: tuple[str, ...] | None = None,
    min_items: int = 1,
) -> Any:
    """Declare a dataclass field together with its :class:`ParamSpec` (name and default filled later)."""
    spec = ParamSpec(
        name="",
        splatter_name=splatter,
        dtype=dtype,
        shape=shape,
        lower=lower,
        upper=upper,
        lower_open=lower_open,
        allow_inf=allow_inf,
        choices=choices,
        description=description,
        min_items=min_items,
    )
    return dataclasses.field(default=default, metadata={"spec": spec})


def param_specs(cls: type) -> tuple[ParamSpec, ...]:
    """Return the :class:`ParamSpec` of every field of a parameter dataclass, in field order."""
    return tuple(
        dataclasses.replace(
            f.metadata["spec"],
            name=f.name,
            default=None if f.default is dataclasses.MISSING else f.default,
            required=f.default is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


def json_schema_properties(cls: type) -> dict[str, dict[str, Any]]:
    """JSON-Schema ``properties`` for a parameter dataclass (for the configuration schema).

    Per-batch and per-path parameters accept one value or a list; required parameters get no
    ``default``. ``+inf`` (``bcv_df``) cannot be written in JSON and is therefore allowed only
    through YAML's ``.inf`` by a ``number`` type without ``maximum``.
    """
    properties: dict[str, dict[str, Any]] = {}
    for spec in param_specs(cls):
        element: dict[str, Any] = {
            "integer": {"type": "integer"},
        }.get(_json_type(spec.dtype), {"type": _json_type(spec.dtype)})
        if spec.lower is not None:
            element["exclusiveMinimum" if spec.lower_open else "minimum"] = spec.lower
        if spec.upper is not None:
            element["maximum"] = spec.upper
        if spec.allow_inf:
            element["x-allow-infinite"] = True
        if spec.choices is not None:
            element["enum"] = list(spec.choices)
        if spec.shape == "scalar":
            schema = element
        elif spec.shape == "vector":
            schema = {"type": "array", "items": element, "minItems": spec.min_items}
        else:
            array = {"type": "array", "items": element, "minItems": spec.min_items}
            schema = {"oneOf": [element, array]}
        schema = {**schema, "description": spec.description}
        if not spec.required:
            schema["default"] = (
                list(spec.default) if isinstance(spec.default, tuple) else spec.default
            )
        properties[spec.name] = schema
    return properties


def _json_type(dtype: type) -> str:
    return {int: "integer", float: "number", bool: "boolean", str: "string"}[dtype]


def _convert_element(spec: ParamSpec, owner: str, value: Any) -> Any:
    """Check one element against ``spec`` and return it as the spec's Python type."""
    msg = f"{owner} parameter {spec.name!r} must be {spec.expectation()}; got {value!r}"
    if spec.dtype is bool:
        if not isinstance(value, bool | np.bool_):
            raise ValueError(msg)
        return bool(value)
    if spec.dtype is str:
        if not isinstance(value, str) or (spec.choices is not None and value not in spec.choices):
            raise ValueError(msg)
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(msg)
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not (spec.allow_inf and number > 0)):
        raise ValueError(msg)
    if spec.dtype is int:
        if not number.is_integer():
            raise ValueError(msg)
        number = int(number)
    if spec.lower is not None and (
        number < spec.lower or (spec.lower_open and number == spec.lower)
    ):
        raise ValueError(msg)
    if spec.upper is not None and number > spec.upper:
        raise ValueError(msg)
    return number


def normalise_value(spec: ParamSpec, owner: str, value: Any) -> Any:
    """Validate a value against its spec: scalars stay scalars, the other shapes become tuples."""
    if spec.shape == "scalar":
        return _convert_element(spec, owner, value)
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        value = (value,)
    if len(value) < spec.min_items:
        msg = (
            f"{owner} parameter {spec.name!r} must hold at least {spec.min_items} value(s); "
            f"got {list(value)}"
        )
        raise ValueError(msg)
    return tuple(_convert_element(spec, owner, v) for v in np.asarray(value).ravel().tolist())


def recycle(owner: str, name: str, values: tuple[Any, ...], n: int, what: str) -> tuple[Any, ...]:
    """Recycle a one-value tuple to length ``n`` (Splatter's ``expandParams``), else check its length."""
    if len(values) == 1:
        return values * n
    if len(values) != n:
        msg = (
            f"{owner} parameter {name!r} must hold one value or {n} values (one per {what}); "
            f"got {len(values)}: {list(values)}"
        )
        raise ValueError(msg)
    return values


class ValidatedParams:
    """Mixin for frozen parameter dataclasses: per-field checks from the specs, then ``_check``."""

    #: name used in error messages, e.g. ``"Splat"``
    owner: ClassVar[str] = "simulation"

    def __post_init__(self) -> None:
        for spec in param_specs(type(self)):
            value = normalise_value(spec, self.owner, getattr(self, spec.name))
            object.__setattr__(self, spec.name, value)
        self._check()

    def _check(self) -> None:
        """Checks that involve several parameters (override in subclasses)."""

    def _set(self, name: str, value: Any) -> None:
        """Replace a field of the frozen instance during validation."""
        object.__setattr__(self, name, value)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build the parameters from a mapping, rejecting unknown names with a suggestion.

        Raises
        ------
        ValueError
            If a name is unknown (the message lists close matches and all valid names), a required
            parameter is missing, or a value is out of range.
        """
        specs = {spec.name: spec for spec in param_specs(cls)}
        unknown = [name for name in values if name not in specs]
        if unknown:
            hints = []
            for name in unknown:
                snake = _snake_case(name)
                close = (
                    [snake] if snake in specs else difflib.get_close_matches(name, list(specs), n=1)
                )
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            msg = (
                f"unknown {cls.owner} parameter(s) {', '.join(hints)}; "
                f"valid names are: {', '.join(specs)}"
            )
            raise ValueError(msg)
        missing = [s.name for s in specs.values() if s.required and s.name not in values]
        if missing:
            msg = f"missing required {cls.owner} parameter(s): {', '.join(missing)}"
            raise ValueError(msg)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``name -> value`` dict (tuples as lists), e.g. for ``AnnData.uns`` or JSON."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }


def _snake_case(name: str) -> str:
    """``path.nSteps`` -> ``path_n_steps`` (Splatter's dotted camelCase to our names)."""
    out = []
    for char in name.replace(".", "_"):
        if char.isupper():
            out.append("_" + char.lower())
        else:
            out.append(char)
    return "".join(out).lstrip("_")


def path_order(path_from: Sequence[int]) -> tuple[int, ...]:
    """Order in which paths can be simulated: each after the path it starts from.

    ``path_from[p]`` is the 1-based path whose end path ``p`` starts from (0 = the root). Returns
    0-based path indices in the order of Splatter's ``getPathOrder``: paths wait in a queue, and
    the path at its head is taken if its origin is done, else sent to the back.

    Raises
    ------
    ValueError
        If the paths contain a cycle (some path can never be reached from the root).
    """
    done: list[int] = []
    queue = collections.deque(range(len(path_from)))
    waited = 0  # paths sent to the back since the last one was taken
    while queue:
        path = queue.popleft()
        if path_from[path] == 0 or path_from[path] - 1 in done:
            done.append(path)
            waited = 0
            continue
        queue.append(path)
        waited += 1
        if waited > len(queue):
            msg = (
                f"Splat parameter 'path_from' {list(path_from)} contains a cycle: paths "
                f"{sorted(p + 1 for p in queue)} cannot be reached from the root (0)"
            )
            raise ValueError(msg)
    return tuple(done)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SplatCoreParams(ValidatedParams):
    """Parameters every Splat mode shares: genes, gene means, outliers, library sizes, BCV."""

    owner: ClassVar[str] = "Splat"

    seed: int = param(
        dtype=int,
        lower=0,
        splatter="seed",
        description="Random seed; the same seed gives the same simulation.",
    )
    n_genes: int = param(
        10000, dtype=int, lower=1, upper=10**6, splatter="nGenes", description="Number of genes G."
    )
    mean_shape: float = param(
        0.6,
        lower=0,
        lower_open=True,
        splatter="mean.shape",
        description="Shape of the gamma distribution of base gene means.",
    )
    mean_rate: float = param(
        0.3,
        lower=0,
        lower_open=True,
        splatter="mean.rate",
        description="Rate of the gamma distribution of base gene means.",
    )
    lib_loc: float = param(
        11.0,
        splatter="lib.loc",
        description="Meanlog of the log-normal expected library size (mean if lib_norm).",
    )
    lib_scale: float = param(
        0.2,
        lower=0,
        splatter="lib.scale",
        description="Sdlog of the log-normal expected library size (sd if lib_norm).",
    )
    lib_norm: bool = param(
        default=False,
        dtype=bool,
        splatter="lib.norm",
        description="Draw expected library sizes from a normal instead of a log-normal.",
    )
    out_prob: float = param(
        0.05,
        lower=0,
        upper=1,
        splatter="out.prob",
        description="Probability that a gene is a (high) expression outlier.",
    )
    out_fac_loc: float = param(
        4.0, splatter="out.facLoc", description="Meanlog of the outlier factors."
    )
    out_fac_scale: float = param(
        0.5, lower=0, splatter="out.facScale", description="Sdlog of the outlier factors."
    )
    bcv_common: float = param(
        0.1,
        lower=0,
        splatter="bcv.common",
        description="Common biological coefficient of variation.",
    )
    bcv_df: float = param(
        60.0,
        lower=0,
        lower_open=True,
        allow_inf=True,
        splatter="bcv.df",
        description="Degrees of freedom of the BCV inverse chi-squared scaling (inf: no scaling).",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SplatParams(SplatCoreParams):
    """Parameters of a Splat *paths* simulation (Splatter 1.22.1 ``newSplatParams``, snake_case).

    Per-batch fields (``batch_fac_*``) and per-path fields (``de_*``, ``path_from``,
    ``path_n_steps``, ``path_skew``) accept one value or one value per batch / path and are stored
    recycled to full length, as Splatter's ``expandParams`` does. The number of cells is
    ``sum(batch_cells)``, the number of batches ``len(batch_cells)`` and the number of paths
    ``len(group_prob)``, as in Splatter (they cannot be set directly).

    Raises
    ------
    ValueError
        On construction, for any value outside its range, a per-batch/per-path list of the wrong
        length, ``group_prob`` not summing to 1, an invalid ``path_from`` graph, or dropout
        midpoints/shapes of the wrong length for ``dropout_type``.
    """

    batch_cells: tuple[int, ...] = param(
        (100,),
        dtype=int,
        shape="vector",
        lower=1,
        upper=10**7,
        splatter="batchCells",
        description="Cells per batch; its length is the number of batches.",
    )
    batch_fac_loc: tuple[float, ...] = param(
        (0.1,), shape="per_batch", splatter="batch.facLoc", description="Meanlog of batch factors."
    )
    batch_fac_scale: tuple[float, ...] = param(
        (0.1,),
        shape="per_batch",
        lower=0,
        splatter="batch.facScale",
        description="Sdlog of batch factors.",
    )
    batch_rm_effect: bool = param(
        default=False,
        dtype=bool,
        splatter="batch.rmEffect",
        description="Draw batch factors, then set them to 1 (a batch-free twin of a simulation).",
    )
    group_prob: tuple[float, ...] = param(
        (1.0,),
        shape="vector",
        lower=0,
        upper=1,
        splatter="group.prob",
        description="Probability of each path (must sum to 1); its length is the number of paths.",
    )
    de_prob: tuple[float, ...] = param(
        (0.1,),
        shape="per_path",
        lower=0,
        upper=1,
        splatter="de.prob",
        description="Probability that a gene is differentially expressed at the end of a path.",
    )
    de_down_prob: tuple[float, ...] = param(
        (0.5,),
        shape="per_path",
        lower=0,
        upper=1,
        splatter="de.downProb",
        description="Probability that a DE gene is down-regulated.",
    )
    de_fac_loc: tuple[float, ...] = param(
        (0.1,), shape="per_path", splatter="de.facLoc", description="Meanlog of DE factors."
    )
    de_fac_scale: tuple[float, ...] = param(
        (0.4,),
        shape="per_path",
        lower=0,
        splatter="de.facScale",
        description="Sdlog of DE factors.",
    )
    dropout_type: str = param(
        "none",
        dtype=str,
        choices=DROPOUT_TYPES,
        splatter="dropout.type",
        description="Dropout: none, or logistic dropout per experiment, batch, group (path) or cell.",
    )
    dropout_mid: tuple[float, ...] = param(
        (0.0,),
        shape="vector",
        splatter="dropout.mid",
        description="Dropout logistic midpoint(s) on log CellMeans; 1, B, P or C values by type.",
    )
    dropout_shape: tuple[float, ...] = param(
        (-1.0,),
        shape="vector",
        splatter="dropout.shape",
        description="Dropout logistic slope(s); 1, B, P or C values by dropout_type.",
    )
    path_from: tuple[int, ...] = param(
        (0,),
        dtype=int,
        shape="per_path",
        lower=0,
        splatter="path.from",
        description="Origin of each path: 0 = the root, k = the end of path k.",
    )
    path_n_steps: tuple[int, ...] = param(
        (100,),
        dtype=int,
        shape="per_path",
        lower=1,
        splatter="path.nSteps",
        description="Number of steps along each path.",
    )
    path_skew: tuple[float, ...] = param(
        (0.5,),
        shape="per_path",
        lower=0,
        upper=1,
        splatter="path.skew",
        description="Step skew: 0.5 uniform, towards 1 more cells early, towards 0 more cells late.",
    )
    path_nonlinear_prob: float = param(
        0.1,
        lower=0,
        upper=1,
        splatter="path.nonlinearProb",
        description="Probability that a gene follows a non-linear (Brownian bridge) trajectory.",
    )
    path_sigma_fac: float = param(
        0.8,
        lower=0,
        splatter="path.sigmaFac",
        description="How far non-linear trajectories may wander (bridge noise factor).",
    )

    @property
    def n_cells(self) -> int:
        """Number of cells C = ``sum(batch_cells)``."""
        return sum(self.batch_cells)

    @property
    def n_batches(self) -> int:
        """Number of batches B = ``len(batch_cells)``."""
        return len(self.batch_cells)

    @property
    def n_paths(self) -> int:
        """Number of paths P = ``len(group_prob)``."""
        return len(self.group_prob)

    def _check(self) -> None:
        for spec in param_specs(type(self)):
            if spec.shape in ("per_batch", "per_path"):
                n, what = (
                    (self.n_batches, "batch")
                    if spec.shape == "per_batch"
                    else (self.n_paths, "path")
                )
                self._set(
                    spec.name, recycle(self.owner, spec.name, getattr(self, spec.name), n, what)
                )
        total = math.fsum(self.group_prob)
        if not math.isclose(total, 1.0, rel_tol=GROUP_PROB_RTOL):
            msg = (
                f"Splat parameter 'group_prob' must sum to 1 (one probability per path); "
                f"got {list(self.group_prob)} (sum {total:.10g})"
            )
            raise ValueError(msg)
        self._check_path_from()
        self._check_dropout_lengths()

    def _check_path_from(self) -> None:
        origins = self.path_from
        bad = [o for o in origins if o > self.n_paths]
        if bad:
            msg = (
                f"Splat parameter 'path_from' must hold integers in [0, {self.n_paths}] "
                f"(0 = root, k = end of path k); got {list(origins)}"
            )
            raise ValueError(msg)
        if 0 not in origins:
            msg = f"Splat parameter 'path_from' must contain 0 (a path from the root); got {list(origins)}"
            raise ValueError(msg)
        self_loops = [p + 1 for p, o in enumerate(origins) if o == p + 1]
        if self_loops:
            msg = f"Splat parameter 'path_from': path(s) {self_loops} cannot begin at themselves"
            raise ValueError(msg)
        path_order(origins)

    def _check_dropout_lengths(self) -> None:
        if self.dropout_type == "none":
            return
        expected = {
            "experiment": 1,
            "batch": self.n_batches,
            "group": self.n_paths,
            "cell": self.n_cells,
        }[self.dropout_type]
        for name in ("dropout_mid", "dropout_shape"):
            got = len(getattr(self, name))
            if got != expected:
                msg = (
                    f"Splat parameter {name!r} must hold {expected} value(s) when "
                    f"dropout_type is {self.dropout_type!r}; got {got}"
                )
                raise ValueError(msg)
