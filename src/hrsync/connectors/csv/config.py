"""The settings of one CSV target, validated when they are loaded."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class CsvConfig(BaseModel):
    """Which format, where the file goes, and where hrsync keeps its copy of the last file.

    `state_dir` holds the file last delivered and its checksum: it is the account store, so a
    run plans only what changed since that delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["flexwhere", "winningtemp"] = "flexwhere"
    delivery: Literal["folder"] = "folder"
    folder: str = Field(description="Where the file is written (delivery = folder).")
    state_dir: str = Field(
        "",
        description="Where hrsync keeps its copy of the last delivery; by default "
        "$HRSYNC_HOME/connections/KEY-ID.",
    )
    contents: Literal["full", "delta"] = Field(
        "full",
        description="full: every row each time; delta: only rows created or changed since "
        "the last delivery, with a removals file.",
    )
    receipt: bool = Field(False, description="Also write NAME.sha256 next to the file.")
    password: SecretStr | None = Field(None, description="Unused by folder delivery.")
