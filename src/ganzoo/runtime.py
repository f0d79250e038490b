"""The runtime node's keys: how the nets run and what samples are drawn from, settings of every model alike.
Until checkpoint format 3 they were keys of each model's node; both the config checks (moved keys) and the
checkpoint reader (old configs) need their names, and neither may import the other."""

RUNTIME_KEYS = ("compile", "channels_last", "sample_batch_norm", "ema", "ema_decay", "ema_start")
