"""Figures of style: the texture example, another crop of it and the synthesised texture; the
content, style and transferred images; the optimisation curves."""

from __future__ import annotations

from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure


def _row(images, titles, name, caption) -> Figure:
    fig = MplFigure(figsize=(3.1 * len(images), 3.4), layout="constrained")
    for ax, img, title in zip(fig.subplots(1, len(images)), images, titles, strict=True):
        ax.imshow(img)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    return Figure(name, caption, fig)


def draw(run: RunRecord) -> list[Figure]:
    a, m = run.arrays, run.metrics
    t, tr = m["texture"], m["transfer"]
    j, jt = t["judges"], tr["judges"]
    curves = MplFigure(figsize=(6.5, 3.2), layout="constrained")
    ax = curves.subplots()
    ax.semilogy(a["curve_texture"], label="texture synthesis (style loss)")
    ax.semilogy(a["curve_transfer"], label="style transfer (style + content loss)")
    ax.set(xlabel="loss evaluation (L-BFGS, line search included)", ylabel="loss")
    ax.legend(fontsize=8)
    return [
        _row(
            [a["style"], a["style_other"], a["texture"]],
            [
                "the example\n",
                f"another crop\nGram {t['other_crop']:.3g}, spectrum "
                f"{j['other_crop']['spectrum']:.2f}",
                f"synthesised from noise\nGram {t['result']:.3g}, spectrum "
                f"{j['result']['spectrum']:.2f}",
            ],
            "style_texture",
            f"Texture synthesis by matching Gram matrices ({m['features']} features). Each "
            "image's Gram (style) loss against the example, which the optimisation minimised "
            f"(the noise it started from: {t['noise']:.3g}), and its distance to the example in "
            "the luminance power spectrum, which it never saw (the noise: "
            f"{j['noise']['spectrum']:.2f}).",
        ),
        _row(
            [a["content"], a["style"], a["transfer"]],
            [
                f"content\nspectrum to the style {jt['content']['spectrum']:.2f}",
                f"style\nlayout correlation {tr['layout']['style']:.2f}",
                f"result\nspectrum {jt['result']['spectrum']:.2f}, layout "
                f"{tr['layout']['result']:.2f}",
            ],
            "style_transfer",
            "Style transfer from noise: the result should keep the content image's layout (the "
            "correlation of low-passed luminance with the content image's) and take the style "
            "image's statistics (the luminance spectrum's distance to the style). Gram loss of "
            f"the result {tr['style_of_result']:.3g} against the content image's "
            f"{tr['style_of_content']:.3g}; content loss {tr['content_of_result']:.3g} against "
            f"the style image's {tr['content_of_style']:.3g}.",
        ),
        Figure("style_curves", "The optimisations, step by step.", curves),
    ]
