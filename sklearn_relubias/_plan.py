"""One plan per fit: what a fit decides and computes once, handed to every layer.

:class:`FitPlan` is built once per fit from validated data and the
estimator's choices. It owns

- the exact power-of-two rescaling to internal units (``_rescale``);
- one memory plan (``_memory.MemoryPlan``): the gradient-descent path and
  the reference program are planned together and checked once, before
  anything is allocated;
- the operator gradient descent runs on, with the Gram matrix formed at
  most once, and one spectrum of it (``_linalg.Spectrum``) shared by the
  step size and the minimum-norm program's choice of route;
- the only step-size formula, ``eta = learning_rate / curvature bound``;
- a lazy, cached minimum-norm reference (``_reference``) and the gap to it
  in the data's units;
- ``decisions``, a plain record of all of the above that tests and
  benchmarks read.

:class:`Precomputed` holds what fits on one data set share (the Gram matrix,
its spectrum, the references per model and targets), so that sweeps and the
theory helpers solve ``W*`` once per data set.
"""

import hashlib
import weakref

import numpy as np
from scipy import sparse

from . import _reference
from ._gd import OPTIMIZERS, GDProblem, make_operator
from ._gd._backends import select_for
from ._gd._problem import kernel_array
from ._linalg import (
    Spectrum,
    count_decompositions,
    decompositions,
    forget_decompositions,
    gram,
    pre_activations,
    row_norms_sq,
    weighted_top_eigenvalue,
)
from ._memory import MemoryPlan, gram_gd_bytes
from ._metrics import distance, relative_distance
from ._model import clearly_outside
from ._rescale import Rescaling

# solver='auto': seconds to form K = X X^T and its top eigenvalue, per entry of K
# and per entry and stored entry of a row of X (dense: d, CSR: non-zeros per row);
# fitted with the backends' step costs (benchmark case 13).
GRAM_SETUP_COST = (1e-8, 3e-11)
# float64 arrays of shape (n_samples, n_neurons) a gradient-descent fit holds at
# its peak (state, kernel buffers, the fitted attributes and their temporaries;
# measured: about 6 at n = 1e6, d = 5, with the import's own memory aside).
GD_STATE_ARRAYS = 10


def _digest(array):
    """Short fingerprint of an array's values, dense or sparse (None for None)."""
    if array is None:
        return None
    array = array if sparse.issparse(array) else np.asarray(array)
    h = hashlib.blake2b(digest_size=16)
    parts = (array.data, array.indices, array.indptr) if sparse.issparse(array) else (array,)
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes())
    h.update(str(array.shape).encode())
    return h.hexdigest()


class Precomputed:
    """What fits on one data set share: its Gram matrix, its spectrum and its references.

    Pass it wherever a precomputed Gram matrix is accepted
    (``ShallowReLURegressor.fit(X, y, gram=...)``, the experiments): the
    Gram matrix ``K = X X^T`` is formed on first use, decomposed at most
    once, and every minimum-norm reference solved on this data set is kept
    (per model, targets and sample weights), so that fits at several
    learning rates or initialisations on the same data solve ``W*`` once.
    Fits with hidden biases (``hidden_bias=c > 0``) use, and keep inside it,
    the data set ``[X, c 1]`` with Gram matrix ``K + c^2 1 1^T``.
    It is not safe to share one instance between threads.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features), default=None
        The inputs.
    gram : ndarray of shape (n_samples, n_samples), default=None
        ``X X^T`` if already computed, or the Gram matrix alone (without X:
        only what needs ``K`` can use it, e.g.
        :func:`~sklearn_relubias.experiments.gram_gap`).

    Attributes
    ----------
    n_samples : int
        Number of examples.
    n_gram_products : int
        Times ``K`` was formed from X (0 or 1).
    n_eigendecompositions : int
        Full eigendecompositions of ``K`` so far (at most 1).
    n_lanczos : int
        Lanczos runs for the top eigenvalue of ``K`` (large ``K`` only).
    n_references : int
        Minimum-norm programs solved on this data set.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_relubias import PAPER_MODEL, Precomputed, ShallowReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((10, 500)), rng.standard_normal(10)
    >>> data = Precomputed(X)
    >>> paper = ShallowReLURegressor(**PAPER_MODEL)
    >>> gaps = [paper.set_params(learning_rate=lr).fit(X, y, gram=data).min_norm_gap_
    ...         for lr in (0.5, 0.1)]
    >>> data.n_gram_products, data.n_references
    (1, 1)
    """

    def __init__(self, X=None, *, gram=None):
        if X is None and gram is None:
            raise ValueError("Precomputed needs X, its Gram matrix, or both.")
        self.X = X
        self._gram = None
        if gram is not None:
            K = np.asarray(gram, dtype=np.float64)
            n = K.shape[0] if X is None else X.shape[0]
            if K.shape != (n, n) or not np.all(np.isfinite(K)):
                raise ValueError(
                    f"gram must be the finite Gram matrix X @ X.T of shape ({n}, {n}); "
                    f"got shape {K.shape}."
                )
            self._set_gram(K)
        self._spectrum_cache = None
        self._references = {}
        self._with_constant = {}
        self.n_gram_products = 0
        self.n_references = 0

    @property
    def n_samples(self):
        return self._gram.shape[0] if self.X is None else self.X.shape[0]

    def _has_gram(self):
        """Whether ``K`` is already known (formed or given)."""
        return self._gram is not None

    def gram(self):
        """``K = X X^T`` (float64, C-contiguous), formed on first use."""
        if self._gram is None:
            self._set_gram(gram(self.X))
            self.n_gram_products += 1
        return self._gram

    def _set_gram(self, K):
        self._gram = kernel_array(K)
        weakref.finalize(self, forget_decompositions, count_decompositions(self._gram))

    @property
    def n_eigendecompositions(self):
        """Full eigendecompositions of ``K`` so far, by any :class:`Spectrum` of it."""
        return 0 if self._gram is None else decompositions(self._gram)[0]

    @property
    def n_lanczos(self):
        """Lanczos runs for ``lambda_max(K)`` so far."""
        return 0 if self._gram is None else decompositions(self._gram)[1]

    def _spectrum(self):
        """Return the :class:`~sklearn_relubias._linalg.Spectrum` of ``K`` (shared by every fit)."""
        if self._spectrum_cache is None:
            self._spectrum_cache = Spectrum(self.gram())
        return self._spectrum_cache

    def _check_matches(self, X):
        """Raise a ValueError unless ``X`` is this data set (shape and squared row norms).

        The squared row norms of X are compared with the diagonal of ``K``
        when it is known, else with those of this data set's X (unless X is
        that very array).
        """
        n = self.n_samples
        if X.shape[0] != n or (self.X is not None and X.shape != self.X.shape):
            raise ValueError(
                f"gram was computed for {n} samples"
                + ("" if self.X is None else f" and {self.X.shape[1]} features")
                + f"; X has shape {X.shape}."
            )
        if self._gram is None and X is self.X:
            return
        known = np.diag(self._gram) if self._gram is not None else row_norms_sq(self.X)
        if not np.allclose(known, row_norms_sq(X), rtol=1e-6, atol=0.0):
            raise ValueError(
                "gram does not match X: its diagonal differs from the squared row norms."
            )

    def _biased(self, bias, X):
        """Return this data set with the constant feature ``bias``: ``X = [self.X, bias 1]``.

        Kept per ``bias`` (the first ``X`` given is held), so fits with hidden
        biases on one data set share its Gram matrix ``K + bias^2 1 1^T``
        (from this one's ``K`` when known: one addition, no product) and
        references.
        """
        if bias not in self._with_constant:
            K = None if self._gram is None else self._gram + bias * bias
            self._with_constant[bias] = Precomputed(X, gram=K)
        return self._with_constant[bias]

    def _scaled(self, exponent, X):
        """Return this data set in internal units: ``X`` is the inputs divided by ``2**exponent``.

        Returns self when ``exponent`` is 0; otherwise a new instance holding
        the scaled X and, if known, ``K / 4**exponent`` (exact).
        """
        if exponent == 0:
            return self
        K = None if self._gram is None else np.ldexp(self._gram, -2 * exponent)
        return Precomputed(X, gram=K)

    def _reference(
        self, model, y, *, sample_weight=None, tol=1e-12, dual_coef=True, memory=None, region=None
    ):
        """``model``'s minimum-norm reference for targets ``y``, solved once and kept.

        ``region`` (n_samples, n_neurons) bool: the minimum-norm interpolant
        within that activation region instead of the model's own program.

        A reference kept without coefficients (primal path, ``dual_coef=False``)
        is solved again when they are asked for.
        """
        key = (model.key(), _digest(y), _digest(sample_weight), tol, _digest(region))
        kept = self._references.get(key)
        if kept is None or (dual_coef and kept.dual_coef is None):
            n_samples = self.n_samples
            d = np.inf if self.X is None else self.X.shape[1]
            needs_gram = n_samples < d
            self._references[key] = _reference.solve(
                model,
                self.X,
                y,
                sample_weight=sample_weight,
                gram=self.gram() if needs_gram else None,
                spectrum=self._spectrum() if needs_gram else None,
                tol=tol,
                dual_coef=dual_coef,
                memory=memory,
                region=region,
            )
            self.n_references += 1
        return self._references[key]


def as_precomputed(gram_or_data, X, bias=0.0, biased=None):
    """Return a :class:`Precomputed` for X from a fit's ``gram`` argument (validated against X).

    ``gram_or_data`` is None (a fresh one), the Gram matrix ``X X^T`` or a
    :class:`Precomputed` of this X. With hidden biases, ``bias > 0`` is the
    constant feature and ``biased`` is ``[X, bias 1]``, what the fit runs
    on: the returned data set is that of ``biased`` (Gram matrix
    ``K + bias^2 1 1^T``), kept by a given :class:`Precomputed` for its
    next fits.
    """
    if gram_or_data is None:
        return Precomputed(X if biased is None else biased)
    if not isinstance(gram_or_data, Precomputed):
        data = Precomputed(X, gram=gram_or_data)
    elif gram_or_data.X is None:
        raise ValueError(
            "This Precomputed holds a Gram matrix without X; to fit on X pass "
            "Precomputed(X, gram=K) (or K itself)."
        )
    else:
        data = gram_or_data
    data._check_matches(X)
    return data if biased is None else data._biased(bias, biased)


def step_size(model, learning_rate, lambda_max):
    """Return the step size ``eta = learning_rate / curvature bound`` (0 when ``lambda_max`` is 0).

    ``lambda_max`` is ``lambda_max(X^T diag(w) X)`` with example weights
    ``w`` summing to one; the curvature bound is the model's
    (:meth:`~sklearn_relubias._model.Model.curvature`, ``||a||^2
    lambda_max`` for every activation here). This is the package's only
    step-size formula.
    """
    return float(learning_rate / model.curvature(lambda_max)) if lambda_max > 0.0 else 0.0


class FitPlan:
    """What one fit decides and shares: units, memory, operator, spectrum, step, reference.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features) or None
        Validated inputs (dense float32/float64 C-ordered, CSR or CSC); None
        when only the Gram matrix is known (``data`` holds it): then nothing
        is rescaled, gradient descent iterates on ``K`` and the reference
        has coefficients but no weights.
    y : ndarray of shape (n_samples,)
        Float64 targets the model fits.
    model : Model
        The network, in the data's units.
    learning_rate : float, default=None
        Gradient descent's relative step; None plans no gradient descent
        (the minimum-norm estimator).
    solver : {'auto', 'primal', 'dual'}, default='auto'
        Where gradient descent iterates (see :meth:`_choose_path`).
    optimizer : str, default='gd'
        A key of :data:`~sklearn_relubias._gd.OPTIMIZERS`.
    optimizer_params : dict, default=None
        Its parameters (``OPTIMIZER_DEFAULTS`` keys, and ``'seed'``), in
        the data's units.
    optimizer_state : dict, default=None
        The optimizer's state to go on from (a warm start), in internal
        units; its ``'units'`` are the exponents of the fit that left it, and
        it is dropped (the optimizer starts afresh) unless they are this
        fit's.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative example weights with a positive sum.
    data : Precomputed, default=None
        What fits on this data set share (from :func:`as_precomputed`);
        a fresh one when None.
    init_weights : ndarray of shape (n_neurons, n_features), default=None
        ``W0`` in the data's units (zeros when None).
    reference : bool, default=False
        Whether the fit needs the minimum-norm reference (planned, then
        solved on first use by :meth:`reference`).
    reference_advice : str, default=None
        What to tell the user when the reference does not fit in memory.
    tol : float, default=1e-12
        Tolerance of the minimum-norm program.
    max_iter : int, default=None
        Gradient descent's step budget, for ``solver='auto'``'s cost model
        (None: compare the cost of one step only).
    region : ndarray of shape (n_samples, n_neurons), dtype bool, default=None
        The reference is the minimum-norm interpolant within this activation
        region (None: the model's own program).

    Attributes
    ----------
    scaling : Rescaling
    model : Model
        The network in internal units.
    memory : MemoryPlan
    problem : GDProblem or None
    step_size : float or None
        ``eta`` in internal units.
    """

    def __init__(
        self,
        X,
        y,
        model,
        *,
        learning_rate=None,
        solver="auto",
        optimizer="gd",
        optimizer_params=None,
        optimizer_state=None,
        sample_weight=None,
        data=None,
        init_weights=None,
        reference=False,
        reference_advice=None,
        tol=1e-12,
        max_iter=None,
        region=None,
    ):
        data = Precomputed(X) if data is None else data
        n, d = (data.n_samples, np.inf) if X is None else X.shape
        a = model.output_weights
        W0 = np.zeros((a.shape[0], 0 if X is None else d)) if init_weights is None else init_weights
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite outputs are ignored
            outputs = model.forward(X, W0) if learning_rate is not None and W0.any() else None
        self.scaling = scaling = Rescaling(X, y, a, outputs)
        self.X, self.y = scaling.data(X, y)
        self.model = model.with_output_weights(scaling.output_weights(a))
        self.sample_weight, self.tol = sample_weight, tol
        self.optimizer_params = optimizer_params or {}
        units = (scaling.kx, scaling.ky, scaling.ka)
        same_units = optimizer_state is not None and optimizer_state.get("units") == units
        self.optimizer_state = optimizer_state if same_units else None
        self.data = data._scaled(scaling.kx, self.X)
        self._gram_given = self.data._has_gram()
        self.memory = MemoryPlan()
        self.path_estimate = None
        dual = learning_rate is not None and self._choose_path(solver, n, d, optimizer, max_iter)
        if learning_rate is not None:
            self.memory.add(
                f"gradient descent's {n} x {a.shape[0]} arrays (pre-activations, coefficients, "
                "pattern, residuals and their copies)",
                GD_STATE_ARRAYS * 8 * n * a.shape[0],
                "use fewer n_neurons, or subsample the rows.",
            )
        self._needs_reference, self._region = reference, region
        if reference:
            advice = reference_advice or "subsample the rows, or reduce the features."
            _reference.plan(self.memory, n, d, advice)
        self.memory.check()
        self._reference = None
        self.problem = self.step_size = None
        if learning_rate is not None:
            self.problem = self._problem(dual, learning_rate, optimizer, scaling.weights_in(W0))
            self.step_size = self.problem.step_size

    def _choose_path(self, solver, n, d, optimizer, max_iter):
        """Whether gradient descent iterates on ``K`` (``'dual'``) or on the weights.

        ``'auto'`` takes the data span when the Gram matrix fits (free when
        it is already known) and the fit is estimated to be faster there:
        forming ``K`` (``GRAM_SETUP_COST``, nothing when it is known) plus
        ``max_iter`` steps on it against ``max_iter`` steps on X, each step
        costed by the backend from the entries it reads (``n^2``; ``n d``
        dense, the non-zeros for CSR) and the number of neurons. ``'dual'``
        plans the Gram matrix and the check refuses it if it does not fit.
        """
        need = 0 if self._gram_given else gram_gd_bytes(n)
        if not OPTIMIZERS[optimizer].in_span:  # its iterates leave the span: on X only
            return False
        if solver == "auto":
            dual = self.memory.fits(need) and self._gram_is_faster(n, d, optimizer, max_iter)
        else:
            dual = solver == "dual"
        if dual:
            self.memory.add(
                f"solver='dual': the {n} x {n} Gram matrix X X^T",
                need,
                "use solver='primal' (memory O(n_samples * n_features)) or solver='auto'.",
            )
        return dual

    def _gram_is_faster(self, n, d, optimizer, max_iter):
        """``solver='auto'``'s cost model (:meth:`_choose_path`)."""
        m, slope = self.model.output_weights.shape[0], self.model.negative_slope
        csr = sparse.issparse(self.X)
        work = self.X.nnz if csr else n * d
        form = "csr" if csr else "dense"
        gram = select_for("gram", slope, optimizer).step_seconds("gram", n * n, m)
        primal = select_for(form, slope, optimizer).step_seconds(form, work, m)
        steps = np.inf if max_iter is None else max(max_iter, 1)
        if self._gram_given or not np.isfinite(steps):
            self.path_estimate = (gram, primal)
            return gram < primal
        per_entry, per_row_entry = GRAM_SETUP_COST
        setup = n * n * (per_entry + per_row_entry * work / max(n, 1))
        self.path_estimate = (setup + steps * gram, steps * primal)
        return setup + steps * gram < steps * primal

    def _problem(self, dual, learning_rate, optimizer, W0):
        """Build the gradient-descent problem: operator, example weights, ``P0`` and the step."""
        n = self.y.shape[0]
        if self.sample_weight is None:
            weights = np.full(n, 1.0 / n)
        else:
            weights = self.sample_weight / np.sum(self.sample_weight)
        operator = make_operator(self.X, self.data.gram() if dual else None)
        if not OPTIMIZERS[optimizer].relative_step:  # Adam's step needs no curvature bound
            lam = 0.0
        elif dual:
            lam = weighted_top_eigenvalue(weights, K=operator.gram, spectrum=self.data._spectrum())
        else:
            lam = weighted_top_eigenvalue(weights, X=operator.X)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflowing start stops the fit
            P0 = pre_activations(self.X, W0) if W0.any() else np.zeros((n, W0.shape[0]))
        return GDProblem(
            fallback=self._fallback(operator),
            operator=operator,
            output_weights=kernel_array(self.model.output_weights),
            targets=kernel_array(self.y),
            weights=kernel_array(weights),
            init_weights=kernel_array(W0),
            init_pre_activations=kernel_array(P0),
            step_size=self._step(learning_rate, optimizer, lam),
            negative_slope=self.model.negative_slope,
            optimizer=optimizer,
            optimizer_params=self._internal_params(optimizer),
            init_optimizer_state=self.optimizer_state,
        )

    def _step(self, learning_rate, optimizer, lam):
        """Return the step in internal units: relative to the curvature, or Adam's own."""
        if OPTIMIZERS[optimizer].relative_step:
            return step_size(self.model, learning_rate, lam)
        return float(self.scaling.weights_in(learning_rate))

    def _internal_params(self, optimizer):
        """Return the optimizer's parameters in internal units (Adam's epsilon is a gradient)."""
        params = dict(self.optimizer_params)
        if not OPTIMIZERS[optimizer].relative_step and "epsilon" in params:
            params["epsilon"] = float(self.scaling.gradient_in(params["epsilon"]))
        return params

    def _fallback(self, operator):
        """For a Gram-form run, the operator of X itself, if X is known and its copy fits."""
        X = self.X
        if operator.form != "gram" or X is None:
            return None
        if sparse.issparse(X):
            copy = 16 * X.nnz  # float64 data and int64 indices
        elif X.flags.c_contiguous and X.flags.writeable:
            copy = 0  # used as it is (float32 too)
        else:
            copy = 8 * X.shape[0] * X.shape[1]
        if not self.memory.fits(copy):
            return None
        return lambda: make_operator(X)

    @property
    def has_reference(self):
        """Whether this plan planned a minimum-norm reference."""
        return self._needs_reference

    def reference(self, *, dual_coef=False):
        """Return the minimum-norm reference in internal units (solved on first use, then kept)."""
        if not self._needs_reference:
            raise RuntimeError("This plan did not plan a minimum-norm reference.")
        if self._reference is None or (dual_coef and self._reference.dual_coef is None):
            self._reference = self.data._reference(
                self.model,
                self.y,
                sample_weight=self.sample_weight,
                tol=self.tol,
                dual_coef=dual_coef,
                memory=self.memory,
                region=self._region,
            )
        return self._reference

    def gap(self, W):
        """``(relative, absolute)`` distance of internal-unit weights ``W`` to ``W*``.

        The relative gap is scale-free; the absolute distance is returned in
        the data's units.
        """
        W_star = self.reference().weights
        return relative_distance(W, W_star), self.scaling.distance_out(distance(W, W_star))

    def region_mismatches(self, P, kink_tol=1e-6, deep_tol=1e-2):
        """Count the (example, neuron) pairs where gradient descent's region is not ``W*``'s.

        ``P`` holds gradient descent's final pre-activations (internal units).
        A pair is active for gradient descent when ``P_ij`` is above
        ``kink_tol`` times the neuron's largest ``|P_.j|`` (a pair sliding on
        the kink, within rounding of 0, is inactive, as in ``W*``), and for
        the reference when its program fits that pair with a positive value.
        Returns ``(differ, deep)``: the pairs that differ, and those of them
        with ``|P_ij|`` above ``deep_tol`` times the neuron's scale (gradient
        descent clearly on the other side, not at the region's boundary).
        """
        scale = np.max(np.abs(P), axis=0, initial=0.0)
        differ = (P > kink_tol * scale) != self.reference().active
        deep = clearly_outside(P, self.reference().active, scale, deep_tol)
        return int(np.count_nonzero(differ)), int(np.count_nonzero(deep))

    @property
    def decisions(self):
        """What this fit decided and computed, as a plain dict (read by tests and benchmarks).

        Keys: ``'path'`` (``'dual'``, ``'primal'`` or None without gradient
        descent), ``'operator_form'``, ``'gram_given'`` (K came with the
        data), ``'gram_products'`` (times K was formed from X on this data
        set), ``'gram_eigendecompositions'`` and ``'gram_lanczos'`` (of
        K, on this data set), ``'step_size'`` (internal units),
        ``'reference_route'`` (None until solved), ``'references_solved'``
        (on this data set), ``'rescaled'`` (the power-of-two exponents of
        X, y and a), and the memory plan's ``'planned_peak_bytes'``,
        ``'memory_stages'`` and ``'memory_checks'``, and ``'path_estimate'``:
        ``solver='auto'``'s estimated seconds ``(dual, primal)`` (None when
        it did not estimate: another solver, or K did not fit).
        """
        form = None if self.problem is None else self.problem.operator.form
        out = {
            "path": None if form is None else ("dual" if form == "gram" else "primal"),
            "operator_form": form,
            "gram_given": self._gram_given,
            "gram_products": self.data.n_gram_products,
            "gram_eigendecompositions": self.data.n_eigendecompositions,
            "gram_lanczos": self.data.n_lanczos,
            "step_size": self.step_size,
            "reference_route": None if self._reference is None else self._reference.route,
            "references_solved": self.data.n_references,
            "rescaled": (self.scaling.kx, self.scaling.ky, self.scaling.ka),
            "path_estimate": self.path_estimate,
        }
        out.update(self.memory.summary())
        return out
