"""Fine-tuning a sentence encoder on a few labeled rows, on a CPU (see ``docs/finetuning.md``).

- :mod:`littledata.finetune.encoder`: a featurizer's transformer as a trainable torch module
  (:func:`~littledata.finetune.encoder.load_tunable`), and the refusal of featurizers without
  trainable weights;
- :mod:`littledata.finetune.contrastive`: SetFit's sentence pairs and cosine-similarity training,
  and unsupervised SimCSE for domain adaptation on unlabeled texts;
- :mod:`littledata.finetune.ulmfit`: ULMFiT-style training with a classification head
  (discriminative learning rates, slanted triangular schedule, gradual unfreezing).

The heads that use them are ``setfit`` and ``finetune`` (:mod:`littledata.heads.tuned`).
"""
