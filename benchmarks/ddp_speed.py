"""Time per generator iteration with DDP against one process, at the same global batch, on this machine.

Each case trains twice through the command line, as a user would: once in one process (`trainer=cpu`, batch B)
and once as two gloo processes (`trainer=ddp trainer.accelerator=cpu trainer.devices=2`, batch B/2 each, so the
same global batch and, ganzoo/draws.py, the same random numbers). The figure is summary.json's steady-state
`median_iteration_seconds` (the median regular iteration), so start-up, process launch and the first iterations are
left out. On a CPU both runs share the same cores: one process uses them through torch's intra-op threads, two
ranks through one thread each (Lightning sets one per rank) plus the all-reduce of every gradient over gloo, so
this measures what DDP costs, not what a second device would give. On GPUs pass --accelerator gpu --devices N.

    python benchmarks/ddp_speed.py                      # both cases, 2 ranks on the CPU
    python benchmarks/ddp_speed.py --quick              # smoke check: few steps
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = {  # name: (overrides, global batch, steps)
    "wgan_gp mlp toy": (["loss=wgan_gp", "data=gaussians8"], 256, 60),
    "wgan_gp dcgan digits 32x32": (["loss=wgan_gp", "model=dcgan", "data=digits"], 64, 20),
}
QUIET = ["logger=none", "callbacks.snapshots=null", "metrics.w1=null", "metrics.modes=null", "callbacks.curves=null",
         "callbacks.best_checkpoint=null", "callbacks.progress=null", "loss.critic_warmup=null"]


def run(overrides: list[str], run_dir: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "ganzoo.train", *overrides, *QUIET, f"run_dir={run_dir}"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads((run_dir / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = ["| case | global batch | one process ms/step | DDP ms/step | ratio DDP/one |", "|---|---:|---:|---:|---:|"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (overrides, batch, steps) in CASES.items():
            steps = 6 if args.quick else steps
            common = [*overrides, f"steps={steps}", f"callbacks.every_n_steps={steps}"]
            one = run([*common, f"trainer.accelerator={args.accelerator}", f"data.batch_size={batch}"], Path(tmp) / "one")
            ddp = run([*common, "trainer=ddp", f"trainer.accelerator={args.accelerator}", f"trainer.devices={args.devices}",
                       f"data.batch_size={batch // args.devices}"], Path(tmp) / "ddp")
            a, b = one["median_iteration_seconds"] * 1000, ddp["median_iteration_seconds"] * 1000
            results[name] = {"global_batch": batch, "steps": steps, "one_ms": a, "ddp_ms": b}
            rows.append(f"| {name} | {batch} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    print(f"{args.devices} ranks on {args.accelerator}, steps per run: {', '.join(str(r['steps']) for r in results.values())}")
    print("\n".join(rows))
    if not args.quick:
        out = Path(__file__).parent / "results" / "ddp_speed.json"
        out.write_text(json.dumps({"accelerator": args.accelerator, "devices": args.devices, "cases": results}, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
