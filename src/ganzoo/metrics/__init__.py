"""Sample-quality figures: toy-data figures here; FID/IS/KID through torchmetrics and torch-fidelity."""

# The seed of the z that evaluation draws (toy figures, FID/IS/KID during training), from a generator of its own so
# that measuring never moves training's random stream.
EVAL_SEED = 2024
