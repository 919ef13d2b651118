from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Get datasets: the official Speech Commands or a synthetic one.")


@app.command("speech-commands")
def speech_commands(
    dest: Path = typer.Argument(..., help="Folder to unpack the dataset into (new or empty)."),
    cache: Path = typer.Option(Path.home() / ".cache" / "tinyml", help="Where the downloaded archive is kept."),
) -> None:
    """Download, verify (SHA-256) and unpack Speech Commands v2 (2.3 GB)."""
    from tinyml.datasets.download import download_speech_commands

    download_speech_commands(dest, cache)


@app.command("synth-kws")
def synth_kws(
    out: Path = typer.Argument(..., help="Folder for the SYNTHETIC dataset (new or empty)."),
    per_word: int = typer.Option(100, min=1, help="Clips per keyword."),
    unknown_per_word: int = typer.Option(47, min=0, help="Clips per other (_unknown_) word (~230 words); 0: a "
                                                        "quarter of --per-word."),
    words: str | None = typer.Option(None, help="Your keywords or phrases, comma-separated (default: the MLPerf "
                                                "Tiny ten), e.g. \"lights on,lights off,hey tiny\"."),
    engines: str = typer.Option("espeak-ng,flite,festival,rhvoice,mbrola,piper,kokoro",
                                help="Speech engines to use, comma-separated (piper and kokoro: neural voices)."),
    seed: int = typer.Option(0, help="Random seed."),
    force: bool = typer.Option(False, help="Rebuild a synthetic dataset made with other settings."),
) -> None:
    """Build a SYNTHETIC Speech Commands-layout dataset offline (seven offline speech engines)."""
    from tinyml.datasets.synth import SynthConfig, parse_engines, parse_words, synthesize

    keywords = parse_words(words) if words is not None else SynthConfig.keywords
    synthesize(out, SynthConfig(per_word=per_word, unknown_per_word=unknown_per_word, seed=seed, keywords=keywords,
                                **parse_engines(engines)), force=force)


@app.command("synth-images")
def synth_images(
    out: Path = typer.Argument(..., help="Folder for the SYNTHETIC image set (new or empty)."),
    classes: int = typer.Option(4, min=2, help="Number of classes (shapes/textures)."),
    per_class: int = typer.Option(100, min=1, help="Images per class."),
    size: int = typer.Option(96, min=16, help="Image side in pixels."),
    seed: int = typer.Option(0, help="Random seed."),
    force: bool = typer.Option(False, help="Rebuild a synthetic set made with other settings."),
) -> None:
    """Draw a SYNTHETIC image-classification set (shapes and textures, one folder per class)."""
    from tinyml.datasets.synth_images import SynthImageConfig, synthesize_images

    synthesize_images(out, SynthImageConfig(classes=classes, per_class=per_class, size=size, seed=seed), force=force)
