"""What every model of the Python API shares: hyperparameters, training data, progress, save and load.

A model object wraps one model directory (:mod:`michigan.train.artifacts`): training writes it (into a
temporary directory unless ``model_dir`` is given), :meth:`Model.save` copies it and adds the genes and
layer the model reads, :meth:`Model.load` reads it back. A directory the pipeline wrote loads too.
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pandas as pd

from michigan.api.cells import check_genes, expression
from michigan.config import ConfigError, as_dict, load_section, section_schema
from michigan.io import read_json, write_json
from michigan.train import model_entry
from michigan.train.artifacts import MODEL_FILE, read_history

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import anndata as ad

    from michigan.train.loop import ProgressHook, TrainingProgress


def hyperparameter_names(section: str) -> list[str]:
    """The keyword hyperparameters of a config section (every key but the job-selecting ones)."""
    properties = section_schema(section)["properties"]
    return [
        name
        for name, schema in properties.items()
        if not schema.get("x-selects-jobs") and name not in ("by_dataset", "representation")
    ]


def hyperparameter_doc(section: str) -> str:
    """A numpydoc-style list of a section's hyperparameters with their defaults and meanings."""
    properties = section_schema(section)["properties"]
    header = f"Hyperparameters (keywords of the config's ``{section}`` section)"
    lines = [header, "-" * len(header)]
    for name in hyperparameter_names(section):
        lines += [f"{name} : default {properties[name].get('default')!r}"]
        lines += [f"    {properties[name].get('description', '')}"]
    return "\n".join(lines)


def section_config(section: str, given: Mapping[str, Any]) -> Any:
    """The typed config ``section`` with the ``given`` hyperparameters and the schema's defaults.

    Raises
    ------
    michigan.config.ConfigError
        Naming an unknown hyperparameter (and the known ones) or a value out of its range.
    """
    allowed = hyperparameter_names(section)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        msg = f"unknown {section} hyperparameter(s) {unknown}; known: {', '.join(allowed)}"
        raise ConfigError(msg)
    return load_section(section, params=dict(given))


@contextlib.contextmanager
def progress_bar(name: str, epochs: int, *, show: bool) -> Iterator[ProgressHook | None]:
    """A ``tqdm.auto`` bar over epochs; yields the training loop's ``on_progress`` hook.

    The hook is ``None`` when no bar is shown. The bar says when the epoch is compiling, and its
    rate excludes compilation.
    """
    if not show:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=epochs, desc=name, unit="epoch") as bar:

        def on_progress(report: TrainingProgress) -> None:
            if report.phase == "compiling":
                bar.set_postfix_str("compiling")
            elif report.phase == "compiled":
                bar.set_postfix_str(f"compiled in {report.compile_s:.1f} s")
            bar.update(report.epochs_done - bar.n)

        yield on_progress


class Model:
    """Base of the API's models: a config section, training cells and a trained model directory.

    Subclasses set :attr:`model` (the config name), :attr:`section` and implement :meth:`_fit` and
    :meth:`_read`.
    """

    model: ClassVar[str]
    section: ClassVar[str]
    _registry: ClassVar[dict[str, type[Model]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register every concrete model class under its config name."""
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:
            Model._registry[cls.model] = cls
            cls.__doc__ = f"{cls.__doc__}\n\n{hyperparameter_doc(cls.section)}"

    def __init__(self, adata: ad.AnnData, *, layer: str | None = None, **hyperparameters: Any):
        self._setup(adata, layer, section_config(self.section, hyperparameters))

    @classmethod
    def from_config(cls, adata: ad.AnnData, config: Any, *, layer: str | None = None) -> Model:
        """A model with a whole validated config section (the pipeline's route)."""
        model = cls.__new__(cls)
        model._setup(adata, layer, config)
        return model

    def _setup(self, adata: ad.AnnData, layer: str | None, config: Any) -> None:
        expression(adata, layer)  # fail now on a missing layer
        self.adata = adata
        self.layer = layer
        self.config = config
        self.genes = adata.var_names.copy()
        self._trained: Any = None
        self._model_dir: Path | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None

    def __repr__(self) -> str:
        state = "trained" if self._trained is not None else "untrained"
        return f"{type(self).__name__}({self.adata.n_obs} cells x {len(self.genes)} genes, {state})"

    # ---------------------------------------------------------------------------------------------
    # training

    def _fit(self, x: Any, config: Any, **kwargs: Any) -> Path:
        raise NotImplementedError

    def _read(self, model_dir: Path) -> Any:
        raise NotImplementedError

    def train(
        self,
        epochs: int | None = None,
        *,
        seed: int = 0,
        progress: bool = True,
        model_dir: str | Path | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> Self:
        """Fit the model to the training cells; returns ``self``.

        Parameters
        ----------
        epochs
            Training epochs (default: the ``epochs`` hyperparameter); ignored by PPCA.
        seed
            Seeds the initialisation and every draw of training: the same seed gives the same model.
        progress
            Show a progress bar (``tqdm.auto``) over epochs.
        model_dir
            Where training writes the model directory (default: a temporary directory, kept while
            the object lives; :meth:`save` copies it).
        checkpoint_dir
            Where the training checkpoint lives (default: inside ``model_dir``); training called
            again with the same arguments resumes from it.
        """
        if epochs is not None:
            params = {**as_dict(self.config), "epochs": epochs}
            self.config = load_section(self.section, params=params)
        workdir = None
        if model_dir is None:
            workdir = tempfile.TemporaryDirectory(prefix=f"michigan-{self.model}-")
            model_dir = workdir.name
        x = self.expression(self.adata)
        show = progress and model_entry(self.model).iterative  # PPCA is fitted in one step
        with progress_bar(self.model, self.config.epochs, show=show) as on_progress:
            self._fit(
                x,
                self.config,
                model=self.model,
                seed=seed,
                out_dir=model_dir,
                checkpoint_dir=checkpoint_dir,
                on_progress=on_progress,
            )
        self._attach(Path(model_dir), workdir)
        return self

    def _attach(self, model_dir: Path, workdir: tempfile.TemporaryDirectory | None) -> None:
        self._trained = self._read(model_dir)
        self.config = self._trained.config
        self._model_dir = model_dir
        self._workdir = workdir

    @property
    def trained(self) -> Any:
        """The trained model of :mod:`michigan.train` (arrays in, arrays out).

        Raises
        ------
        RuntimeError
            Before :meth:`train` or :meth:`load`.
        """
        if self._trained is None:
            msg = f"{type(self).__name__} is not trained yet: call .train() or .load() first"
            raise RuntimeError(msg)
        return self._trained

    @property
    def seed(self) -> int:
        """The training seed."""
        return int(self.trained.info["seed"])

    @property
    def history(self) -> pd.DataFrame:
        """Per-epoch training losses (one row per epoch; empty for PPCA)."""
        table = read_history(self._require_dir())
        return pd.DataFrame(table).set_index("epoch") if "epoch" in table else pd.DataFrame()

    def expression(self, adata: ad.AnnData) -> Any:
        """The matrix of ``adata`` this model reads (its layer), after checking the genes."""
        check_genes(adata, self.genes, what=type(self).__name__)
        return expression(adata, self.layer)

    # ---------------------------------------------------------------------------------------------
    # save and load

    def _require_dir(self) -> Path:
        if self._model_dir is None:
            self.trained  # noqa: B018  (raises: the directory comes with training or loading)
        return Path(self._model_dir)

    def save(self, path: str | Path) -> Path:
        """Write the model directory to ``path`` (created if needed); :meth:`load` reads it back.

        Besides the pipeline's files (``model.json``, ``variables.msgpack``, ``history.json``,
        ``snapshots/``), ``model.json`` records the layer and the genes the model reads.
        """
        source, target = self._require_dir(), Path(path)
        if source.resolve() != target.resolve():
            ignore = shutil.ignore_patterns(MODEL_FILE, "checkpoint")
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        info = {**self.trained.info, "layer": self.layer, "genes": list(map(str, self.genes))}
        write_json(info, target / MODEL_FILE)  # last: a directory with model.json is complete
        return target

    @classmethod
    def load(cls, path: str | Path, adata: ad.AnnData, **kwargs: Any) -> Model:
        """Load a model directory written by :meth:`save` (or by the pipeline) for the cells of ``adata``.

        Raises
        ------
        ValueError
            If the directory holds another model, or ``adata`` has other genes.
        """
        path = Path(path)
        info = read_json(path / MODEL_FILE)
        found = _registered().get(info.get("model"))
        if found is None or not issubclass(found, cls):
            msg = f"{path / MODEL_FILE} holds a {info.get('model')!r} model, not a {cls.__name__}"
            raise ValueError(msg)
        model = found.__new__(found)
        model._setup(adata, info.get("layer"), None)
        if "genes" in info:
            model.genes = pd.Index(info["genes"])
        elif info.get("n_genes") != adata.n_vars:
            msg = f"{path} holds a model of {info.get('n_genes')} genes; adata has {adata.n_vars}"
            raise ValueError(msg)
        model._attach(path, None)
        check_genes(adata, model.genes, what=f"the model in {path}")
        model._loaded(**kwargs)
        return model

    def _loaded(self, **kwargs: Any) -> None:
        """Hook for subclasses' extra :meth:`load` arguments."""
        if kwargs:
            msg = f"{type(self).__name__}.load takes no {sorted(kwargs)}"
            raise TypeError(msg)

    def settings(self) -> dict[str, Any]:
        """The model's hyperparameters as plain values."""
        return {k: v for k, v in as_dict(self.config).items() if k in self.hyperparameters()}

    @classmethod
    def hyperparameters(cls) -> list[str]:
        """Names of the keyword hyperparameters (the config section's keys)."""
        return hyperparameter_names(cls.section)


def _registered() -> dict[str, type[Model]]:
    # the modules that define (and so register) every model class
    for module in ("michigan.api.representation", "michigan.api.generator"):
        importlib.import_module(module)
    return Model._registry


def model_class(name: str) -> type[Model]:
    """The API class of the model called ``name`` in the configuration (e.g. ``"btcvae"``).

    Raises
    ------
    KeyError
        Naming the unknown model and the known ones.
    """
    registered = _registered()
    if name not in registered:
        msg = f"unknown model {name!r}; known models are {sorted(registered)}"
        raise KeyError(msg)
    return registered[name]
