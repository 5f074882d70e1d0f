"""The shared Model protocol and the conformance suite that holds implementations to torch.

* :mod:`~fromscratch.conformance.protocol`: what an implementation offers;
* :mod:`~fromscratch.conformance.registry`: how installed implementations are found;
* :mod:`~fromscratch.conformance.tolerances`: every bound, in one table;
* :mod:`~fromscratch.conformance.reference`: the torch side of each comparison;
* :mod:`~fromscratch.conformance.checks`: the checks, shared by the tests and the report;
* :mod:`~fromscratch.conformance.report` and :mod:`~fromscratch.conformance.bench`;
* :mod:`~fromscratch.conformance.weights`: portable ``.safetensors`` weights, any
  implementation to any other and to torch (the format itself:
  :mod:`~fromscratch.conformance.safetensors_file`);
* :mod:`~fromscratch.conformance.metrics`: accuracy, precision, recall, F1, confusion matrix;
* :mod:`~fromscratch.conformance.progress`: the live progress display of a training run.
"""
