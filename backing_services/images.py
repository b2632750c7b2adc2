"""The data services' images, built with Podman from Debian's packages and reused.

Each image's name carries a digest of its recipe and of the base image, so an unchanged recipe
is never rebuilt and a changed one never hides behind an old tag.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .buildlock import building
from .podman import LABEL, Podman, ensure_base_image

RECIPES = Path(__file__).resolve().with_name("images")
KINDS = ("postgresql", "rabbitmq", "redis", "mariadb")
IMAGE_PREFIX = "localhost/minestrone-"


def render_recipe(kind: str, base: str) -> dict[str, str]:
    """The files of ``kind``'s build context, the Containerfile's base filled in."""
    folder = RECIPES / kind
    files = {path.name: path.read_text() for path in sorted(folder.iterdir()) if path.is_file()}
    files["Containerfile"] = files["Containerfile"].replace("{{ base }}", base)
    return files


def recipe_digest(files: dict[str, str], base_id: str) -> str:
    """What the image depends on: its files and the base image's identity."""
    digest = hashlib.sha256(base_id.encode())
    for name, text in sorted(files.items()):
        digest.update(f"\0{name}\0{text}".encode())
    return digest.hexdigest()[:12]


def write_context(folder: Path, files: dict[str, str]) -> None:
    """Write a build context; scripts (everything but the Containerfile) executable."""
    for name, text in files.items():
        path = folder / name
        path.write_text(text)
        path.chmod(0o644 if name == "Containerfile" else 0o755)


def data_image(
    kind: str,
    podman: Podman | None = None,
    *,
    base: str | None = None,
    say: Callable[[str], None] = lambda line: None,
    no_cache: bool = False,
) -> str:
    """The image of a data service ``kind`` (built now if missing, or ``no_cache``); its name."""
    podman = podman or Podman()
    base = ensure_base_image(podman, base, say)
    base_id = podman.run("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    files = render_recipe(kind, base)
    name = f"{IMAGE_PREFIX}{kind}:{recipe_digest(files, base_id)}"
    if podman.image_exists(name) and not no_cache:
        return name
    with building(name):  # test processes side by side: one builds, the others wait
        if podman.image_exists(name) and not no_cache:
            return name
        with tempfile.TemporaryDirectory(prefix=f"minestrone-{kind}-") as scratch:
            context = Path(scratch)
            write_context(context, files)
            podman.build(context, name, step=f"podman build ({kind} from Debian's packages)",
                         say=say, labels={f"{LABEL}.kind": kind}, no_cache=no_cache)
            shutil.rmtree(context, ignore_errors=True)
    return name
