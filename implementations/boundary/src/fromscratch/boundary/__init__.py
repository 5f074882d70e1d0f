"""What every fromscratch implementation shares that is not its subject.

An implementation's subject is how it computes the gradient (or searches without one).
Everything around that is the same in all of them and lives here, once:

* :mod:`~fromscratch.boundary.validation`: the checks at the public boundary, one set of
  helpers and messages;
* :mod:`~fromscratch.boundary.options`: ``fit``'s options and the optimizer factory;
* :mod:`~fromscratch.boundary.optim`: ``SGD``, ``Adam``, ``AdamW`` in torch's shape, which
  read the gradient stored next to each parameter, and the cosine schedule;
* :mod:`~fromscratch.boundary.loop`: the epoch/batch loop with divergence handling and
  callbacks;
* :mod:`~fromscratch.boundary.model`: ``predict`` from ``predict_proba``, and ``__repr__``;
* :mod:`~fromscratch.boundary.types`: the ``Array``/``Labels``/... aliases.

It depends on NumPy alone, and it never imports an implementation.
"""
