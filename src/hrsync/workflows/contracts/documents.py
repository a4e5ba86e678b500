"""Names of the contract PDFs filed in Flex HRM: `[Contract Name] - Pending.pdf`, or
`[Employee Name] - [Template Name] - Pending.pdf` for a contract without a name; cut to Flex
HRM's 200 characters keeping the suffix, so Pending and Signed stay told apart."""

from __future__ import annotations

MAX_NAME = 200


def document_name(contract_name: str, employee_name: str, template_name: str, status: str) -> str:
    suffix = f" - {status}.pdf"
    base = " ".join(contract_name.split())
    if not base:
        base = " - ".join(part for part in (employee_name.strip(), template_name.strip()) if part)
    base = base or "Contract"
    room = MAX_NAME - len(suffix)
    return base[:room].rstrip() + suffix
