"""``erp-sdk new NAME``: a new plugin package, ready to ``pip install`` and test.

The package is written from the templates in ``erp_sdk/templates/plugin`` (``*.tmpl``
files in which ``{{name}}``-style fields are replaced). Its folder ``package/`` becomes
the Python package ``erp_<name>``, and its initial migration gets a fresh revision id.
A bare plugin (``--bare``) leaves out the sample entity: the files in ``SAMPLE`` are
skipped and a ``*.bare.tmpl`` template replaces its ``*.tmpl`` namesake.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path, PurePosixPath

import click

from erp_core.manifest import PluginManifest

TEMPLATE = "plugin"
SAMPLE = frozenset({"package/models.py", "package/api.py", "package/permissions.py",
                    "package/migrations/versions/initial.py"})
"""The sample entity's files, left out of a bare plugin."""
_FIELD = re.compile(r"\{\{(\w+)\}\}")


class ScaffoldError(click.ClickException):
    """The plugin cannot be written (bad name, existing folder); exit status 1."""


def check_plugin_name(name: str) -> str:
    """Return ``name`` if it can name a plugin (it prefixes tables, permissions and API
    paths), else raise ``ScaffoldError`` saying why and what would do."""
    try:
        PluginManifest(name=name)
    except ValueError as exc:
        suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        hint = f"; try {suggestion!r}" if suggestion and suggestion != name else ""
        raise ScaffoldError(f"{exc}{hint}") from None
    return name


def dependency_distribution(plugin: str) -> tuple[str, str]:
    """The distribution that installs ``plugin`` and its top-level package: the installed
    one's, else ``erp-<name>`` and ``erp_<name>``."""
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="erp.plugins", name=plugin):
        if entry_point.dist is not None:
            return entry_point.dist.name, entry_point.module.partition(".")[0]
    return f"erp-{plugin.replace('_', '-')}", f"erp_{plugin}"


def template_fields(name: str, distribution: str | None = None,
                    depends: Sequence[str] = ()) -> dict[str, str]:
    """The values the templates are filled with, for plugin ``name``."""
    requirements = [f"erp-sdk{compatible_range('erp-sdk')}"]
    packages = ["erp_sdk"]
    for plugin in depends:
        dist, package = dependency_distribution(plugin)
        requirements.append(f"{dist}{compatible_range(dist)}")
        packages.append(package)
    return {
        "name": name,
        "depends": f"\n    depends={list(depends)!r}," if depends else "",
        "dependencies": ", ".join(f'"{r}"' for r in requirements),
        "first_party": ", ".join(f'"{p}"' for p in packages),
        "package": f"erp_{name}",
        "distribution": distribution or f"erp-{name.replace('_', '-')}",
        "title": name.replace("_", " ").capitalize(),
        "revision": uuid.uuid4().hex[:12],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00"),
        "kernel_range": compatible_range("erp-core"),
    }


def compatible_range(distribution: str) -> str:
    """The releases of ``distribution`` compatible with the installed one, by the rules of
    STABILITY.md: the same major version, or the same minor series while it is 0.x."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version(distribution)
    except PackageNotFoundError:  # a source tree that is not installed
        installed = "0.1.0"
    major, minor = (int(part) for part in [*re.findall(r"\d+", installed), "0", "0"][:2])
    if major == 0:
        return f">={major}.{minor},<{major}.{minor + 1}"
    return f">={major}.{minor},<{major + 1}"


def render(text: str, fields: Mapping[str, str]) -> str:
    """Replace every ``{{field}}``; an unknown field is an error in the template."""

    def value(match: re.Match[str]) -> str:
        try:
            return fields[match.group(1)]
        except KeyError:
            raise KeyError(f"the template uses an unknown field {match.group(0)}") from None

    return _FIELD.sub(value, text)


def _template_files(root: Traversable, bare: bool, prefix: PurePosixPath = PurePosixPath()
                    ) -> list[tuple[PurePosixPath, Traversable]]:
    found: dict[PurePosixPath, Traversable] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found.update(_template_files(entry, bare, prefix / entry.name))
        elif entry.name.endswith(".bare.tmpl"):
            if bare:
                found[prefix / entry.name.removesuffix(".bare.tmpl")] = entry
        elif entry.name.endswith(".tmpl"):
            relative = prefix / entry.name.removesuffix(".tmpl")
            if not (bare and str(relative) in SAMPLE):
                found.setdefault(relative, entry)
    return list(found.items())


def _target_path(relative: PurePosixPath, fields: Mapping[str, str]) -> PurePosixPath:
    parts = list(relative.parts)
    if parts[0] == "package":
        parts[0] = fields["package"]
    if parts[-2:-1] == ["versions"] and parts[-1] == "initial.py":
        parts[-1] = f"{fields['revision']}_initial.py"
    return PurePosixPath(*parts)


def create_plugin(name: str, parent: Path | str = ".", *, distribution: str | None = None,
                  depends: Sequence[str] = (), bare: bool = False) -> Path:
    """Write the package of a new plugin ``name`` into ``parent/name``; return that folder.

    ``depends`` names the plugins it builds on: they go into the manifest's ``depends``,
    their distributions into ``pyproject.toml``'s dependencies, and the test kit enables
    them. ``bare`` leaves out the sample entity. Refuses (``ScaffoldError``) a name that
    cannot name a plugin and a folder that already exists, so nothing is ever overwritten.
    """
    check_plugin_name(name)
    for dependency in depends:
        check_plugin_name(dependency)
    if name in depends:
        raise ScaffoldError(f"plugin {name!r} cannot depend on itself")
    target = Path(parent) / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or remove it")
    fields = template_fields(name, distribution, depends)
    files = _template_files(resources.files("erp_sdk") / "templates" / TEMPLATE, bare)
    target.mkdir(parents=True)
    for relative, source in files:
        path = target / _target_path(relative, fields)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(source.read_text(encoding="utf-8"), fields), encoding="utf-8")
    return target


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="erp-sdk", prog_name="erp-sdk")
def main() -> None:
    """The ERP plugin author's tools."""


@main.command()
@click.argument("name")
@click.option("--distribution", metavar="DIST",
              help="Distribution name for pyproject.toml (default: erp-NAME).")
@click.option("--directory", "parent", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Where to create the NAME folder.")
@click.option("--depends", metavar="PLUGINS", default="",
              help="Plugins it builds on, comma-separated (crm,orders): added to the"
                   " manifest and to pyproject.toml.")
@click.option("--bare", is_flag=True, help="Leave out the sample entity, its migration,"
              " roles, route and tests.")
def new(name: str, distribution: str | None, parent: Path, depends: str, bare: bool) -> None:
    """Create a plugin package NAME in ./NAME: manifest, one entity with a workflow,
    roles, a route, its initial migration, a README and tests using the test kit."""
    needed = [part.strip() for part in depends.split(",") if part.strip()]
    target = create_plugin(name, parent, distribution=distribution, depends=needed, bare=bare)
    fields = template_fields(name, distribution, needed)
    click.echo(f"created plugin {name!r} in {target}/ (package {fields['package']},"
               f" distribution {fields['distribution']})")
    click.echo("next:")
    click.echo(f"  cd {target}")
    click.echo("  pip install -e '.[test]'")
    click.echo("  pytest")



@main.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the reference to this file instead of printing it.")
def hooks(output: Path | None) -> None:
    """Print the hook and subscription reference (Markdown), from the kernel's docstrings."""
    from erp_sdk.reference import render_hooks

    text = render_hooks()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
