"""Sample-quality figures: toy-data figures here; FID/IS/KID through torchmetrics and torch-fidelity."""
