"""The runtime node's keys: how the nets run and what samples are drawn from, settings of every model alike.
Until checkpoint format 3 they were keys of each model's node; both the config checks (moved keys) and the
checkpoint reader (old configs) need their names, and neither may import the other."""

# What a model ran with where an old config lacked the key (mlp had no sample_batch_norm; format 1, no average).
BEFORE_THE_KEY = {"compile": False, "channels_last": False, "sample_batch_norm": "batch", "ema": False,
                  "ema_decay": 0.999, "ema_start": 0}
RUNTIME_KEYS = tuple(BEFORE_THE_KEY)
