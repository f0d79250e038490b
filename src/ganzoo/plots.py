"""Pictures a run leaves: toy points over the critic's contour (as in the WGAN-GP paper), training curves,
and scatter plots of toy samples. Drawn on matplotlib Figures with the Agg canvas, never through pyplot, so that
importing ganzoo leaves a notebook's backend and open figures alone and no screen is needed."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Callable

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ganzoo.storage import written_whole

# The training figures' panels, each grouping figures of one scale; every val/* figure a run logs gets a panel of
# its own after them (the metrics a run measures are its config's, not a fixed list).
CURVE_PANELS = (
    ("Wasserstein estimate", ("train/w_estimate",)),
    ("losses", ("train/critic_loss", "train/generator_loss")),
    ("gradient penalties", ("train/gp", "train/lp", "train/r1", "train/r2")),
    ("D(x), D(G(z))", ("train/d_real", "train/d_fake")),
    ("f(x), f(G(z))", ("train/f_real", "train/f_fake")),
)


def _bounds(points: torch.Tensor, margin: float = 0.3) -> tuple[float, float, float, float]:
    lo, hi = points.min(0).values - margin, points.max(0).values + margin
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def toy_plot(
    real: torch.Tensor, fake: torch.Tensor, score: Callable[[torch.Tensor], torch.Tensor] | None, path: Path, title: str = ""
) -> Path:
    """Real (orange) and generated (green) points over the critic's contour lines."""
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    draw_toy(ax, real, fake, score, _bounds(torch.cat([real, fake]).clamp(-6, 6)))
    ax.set_title(title)
    ax.legend(loc="upper right", markerscale=4)
    return _save(fig, path)


def draw_toy(ax, real: torch.Tensor, fake: torch.Tensor | None, score: Callable[[torch.Tensor], torch.Tensor] | None,
             bounds: tuple[float, float, float, float], levels: int = 20) -> None:
    """On `ax`: the critic's contour lines over `bounds` (x0, x1, y0, y1), real points and, if given, generated ones."""
    x0, x1, y0, y1 = bounds
    if score is not None:
        xs, ys = torch.linspace(x0, x1, 120), torch.linspace(y0, y1, 120)
        gx, gy = torch.meshgrid(xs, ys, indexing="xy")
        with torch.no_grad():
            values = score(torch.stack([gx.flatten(), gy.flatten()], 1)).reshape(gx.shape).cpu()
        ax.contour(gx.numpy(), gy.numpy(), values.numpy(), levels=levels, cmap="viridis", linewidths=0.7)
    ax.scatter(real[:, 0], real[:, 1], s=3, c="tab:orange", label="real")
    if fake is not None:
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:green", label="generated")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), aspect="equal")


def scatter_plot(points: torch.Tensor, path: Path, title: str = "") -> Path:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.scatter(points[:, 0], points[:, 1], s=3, c="tab:green")
    ax.set(title=title, aspect="equal")
    return _save(fig, path)


def curve_panels(history: dict) -> list[tuple[str, list[str]]]:
    """(title, figures) of each panel: a group of logged training figures that the run has, then each val/* figure."""
    panels = [(title, [k for k in keys if k in history]) for title, keys in CURVE_PANELS]
    return [(title, keys) for title, keys in panels if keys] + [(k, [k]) for k in sorted(history) if k.startswith("val/")]


def curves_plot(history: dict[str, tuple[list[int], list[float]]], path: Path) -> Path | None:
    """The panels of `curve_panels`, against generator iterations."""
    panels = curve_panels(history)
    if not panels:
        return None
    fig = Figure(figsize=(7, 2.4 * len(panels)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)
    for ax, (title, keys) in zip(axes[:, 0], panels):
        for key in keys:
            steps, values = history[key]
            ax.plot(steps, values, label=key.split("/")[-1], linewidth=0.8, marker="." if len(steps) < 50 else None)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel("generator iterations")
    return _save(fig, path)


def sweep_plot(points: dict[str, dict[str, list[float]]], metric: str, path: Path) -> Path:
    """sweep_figure, saved to `path`."""
    return _save(sweep_figure(points, metric), path)


def sweep_figure(points: dict[str, dict[str, list[float]]], metric: str) -> Figure:
    """One panel per swept parameter: the metric of every job (one point each, so jobs that differ only in their
    seed show the spread) and, per value, the mean with its standard deviation over those jobs as an error bar.
    Numeric values sit at their value, on a log axis when they span a factor of 10 or more, and a line joins the
    means; categorical values (objectives, models) are evenly spaced with no line, since there is nothing between
    `gan` and `wgan_gp`."""
    fig = Figure(figsize=(4.5 * len(points), 3.4))
    axes = fig.subplots(1, len(points), squeeze=False)[0]
    for ax, (name, by_value) in zip(axes, points.items()):
        labels = list(by_value)
        numeric = all(_is_number(label) for label in labels)
        if numeric:
            labels.sort(key=float)
            xs = [float(label) for label in labels]
            if min(xs) > 0 and max(xs) / min(xs) >= 10:
                ax.set_xscale("log")
        else:
            xs = list(range(len(labels)))
        means = [statistics.fmean(by_value[label]) for label in labels]
        spreads = [statistics.stdev(by_value[label]) if len(by_value[label]) > 1 else 0.0 for label in labels]
        for x, label in zip(xs, labels):
            ax.scatter([x] * len(by_value[label]), by_value[label], s=18, c="tab:blue", alpha=0.6)
        ax.errorbar(xs, means, yerr=spreads, fmt="o-" if numeric else "o",
                    c="tab:orange", capsize=4, lw=1, label="mean ± std over seeds")
        if numeric:
            ax.set_xticks(xs, labels, minor=False)
        else:
            ax.set_xticks(xs, labels, rotation=30 if max(map(len, labels)) > 6 else 0)
            ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.set(xlabel=name, ylabel=metric, title=f"{metric} against {name}")
        ax.legend(fontsize=7)
    return fig


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    with written_whole(path) as file:  # a full disk leaves no half-written picture
        FigureCanvasAgg(fig).print_figure(file, format=path.suffix.lstrip(".") or "png", dpi=100)
    return path
