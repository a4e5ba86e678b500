"""The Oneflow contract write-back in the shell: settings, the webhook endpoint, the steps as
jobs, the set-up check and the listings the CLI, console and API share (issue 15)."""
