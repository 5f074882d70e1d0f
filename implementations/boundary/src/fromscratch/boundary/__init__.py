"""What every fromscratch implementation shares that is not its subject.

An implementation's subject is how it computes the gradient (or searches without one).
Everything around that is the same in all of them and lives here, once:

* :mod:`~fromscratch.boundary.validation`: the checks at the public boundary, one set of
  helpers and messages;
* :mod:`~fromscratch.boundary.options`: ``fit``'s options and the optimizer factory;
* :mod:`~fromscratch.boundary.optim`: ``SGD``, ``Adam``, ``AdamW`` in torch's shape, which
  read the gradient stored next to each parameter, the cosine schedule and gradient
  clipping;
* :mod:`~fromscratch.boundary.loop`: the epoch/batch loop with divergence handling and
  callbacks;
* :mod:`~fromscratch.boundary.fit`: ``fit``, once, for every model trained by gradients;
* :mod:`~fromscratch.boundary.model`: the constructor's checks, ``predict`` from
  ``predict_proba``, and ``__repr__``;
* :mod:`~fromscratch.boundary.sequence`: the same for next-token models;
* :mod:`~fromscratch.boundary.spec`: the architecture spec, parsed and bound to torch's
  argument names;
* :mod:`~fromscratch.boundary.recipes`: the training recipes several implementations share,
  and the LeNet-5 spec;
* :mod:`~fromscratch.boundary.types`: the ``Array``/``Labels``/... aliases.

It depends on NumPy alone, and it never imports an implementation.
"""
