"""Build hooks: the site fails to build while a public name of ``erp_sdk`` (or of its
test kit) has no docstring, or is missing from the SDK reference page."""

from __future__ import annotations

import inspect
from typing import Any

from mkdocs.exceptions import PluginError


def on_config(config: Any) -> Any:
    import erp_sdk
    import erp_sdk.testing

    missing = [f"{module.__name__}.{name}"
               for module in (erp_sdk, erp_sdk.testing) for name in module.__all__
               if not inspect.getdoc(getattr(module, name))]
    if missing:
        raise PluginError(f"public names without a docstring: {', '.join(missing)}")
    return config


def on_post_page(output: str, page: Any, config: Any) -> str:
    if page.file.src_uri != "sdk.md":
        return output
    import re

    import erp_sdk

    shown = {anchor.rsplit(".", 1)[-1] for anchor in re.findall(r'id="(erp_[\w.]+)"', output)}
    missing = sorted(set(erp_sdk.__all__) - shown)
    if missing:
        raise PluginError(f"sdk.md does not document: {', '.join(missing)}")
    return output
