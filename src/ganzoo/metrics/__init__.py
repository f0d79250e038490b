"""Sample-quality figures, each a metric registered by name (registry.py): toy-data figures (toy.py), the digit
classifier's (digits.py), FID/IS/KID through torchmetrics and torch-fidelity (images.py)."""

# The seed of the z that evaluation draws (every metric during training), from a generator of its own so that
# measuring never moves training's random stream.
EVAL_SEED = 2024
