"""A signal ends the run at the end of the generator iteration it arrives in, with that iteration checkpointed.

Ctrl-C (SIGINT), SIGTERM (a kill, a scheduler's end of job) and SIGUSR1/SIGUSR2 (what SLURM sends before a time
limit or preemption when asked with `#SBATCH --signal`; submitit asks for USR2) all stop the loop the same way:
the handler only notes the signal, the iteration finishes, every rank agrees to stop at that step, and the run
ends as a finished one would, so last.ckpt holds the state after a whole iteration and the same command continues
it bitwise (resume=auto). A second Ctrl-C stops at once, without a checkpoint, as Python would.

After the run, `hand_on` gives the signal to whoever handled it before ganzoo (submitit requeues the job there),
then ends the process with 128 + the signal's number, so that a scheduler sees a job that did not complete.

Why not Lightning's own handling: its SIGTERM handler only sets a flag that its loop reads at the end of an epoch
(ganzoo's epoch never ends), or, under DDP, at the next batch, by a broadcast the handler also makes from inside
the signal; its SLURM requeue (SIGUSR1) writes an hpc_ckpt that ganzoo's resume would not read. The handlers are
installed at on_train_start, after Lightning has installed its own, and Lightning's teardown puts back those that
were there before the fit (submitit's, say).
"""

from __future__ import annotations

import signal
import sys
import threading

import lightning as L

from ganzoo.callbacks.ranks import largest_on_any_rank
from ganzoo.console import say

STOPPING = ("SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2")


class StopOnSignal(L.Callback):
    def __init__(self, signals: list[str] | tuple[str, ...] = STOPPING):
        self.signals = [signal.Signals[name] for name in signals]
        self.received: signal.Signals | None = None  # noted by the handler, acted on at the iteration's end
        self.stopped_by: str | None = None  # the signal the run stopped for, once all ranks agreed
        self.before: dict[signal.Signals, object] = {}

    def note(self, signum: int, frame) -> None:
        if signum == signal.SIGINT and self.received == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: now
        self.received = signal.Signals(signum)
        if signum == signal.SIGINT:
            print("\nganzoo: stopping at the end of this step (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

    def on_train_start(self, trainer, pl_module) -> None:
        self.received, self.stopped_by = None, None
        if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
            return
        for signum in self.signals:
            self.before[signum] = signal.signal(signum, self.note)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        signum = self.agreed(trainer)
        if signum and trainer.global_step < trainer.max_steps:  # at the last step the run ends anyway, finished
            self.stopped_by = signal.Signals(signum).name
            trainer.should_stop = True  # the loop ends here; LastCheckpoint saves this step at on_train_end

    def on_train_end(self, trainer, pl_module) -> None:
        if self.stopped_by and trainer.is_global_zero:  # here, once the progress bar has closed its line
            say(f"ganzoo: {self.stopped_by}: stopped at step {trainer.global_step} of {trainer.max_steps}; the "
                "checkpoint holds this step and the same command goes on from it")

    def agreed(self, trainer) -> int:
        """The signal any rank received (0: none). Every rank asks at every step, so all stop at the same one."""
        return largest_on_any_rank(trainer, int(self.received or 0))

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum, handler in self.before.items():
                if signal.getsignal(signum) == self.note:  # still ours: no signal connector put back what it found
                    signal.signal(signum, handler)
        self.before = {}


def hand_on(name: str) -> None:
    """End a process whose run stopped for signal `name`: first the handler that was there before ganzoo's (e.g.
    submitit's, which requeues the job and exits), then exit status 128 + the signal's number."""
    signum = signal.Signals[name]
    handler = signal.getsignal(signum)
    if callable(handler) and signum != signal.SIGINT:  # SIGINT's default handler would raise KeyboardInterrupt
        handler(signum, None)
    sys.exit(128 + signum)
