"""Where Flex HRM's write and document resources are. Public material does not show these paths
(research §1.3: INFERRED from Flex's plural, lower-case, no-separator convention), so each can
be set in the source's `[sources.X.paths]` table when a real instance answers elsewhere."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FlexHrmPaths(BaseModel):
    """Path templates below the base URL; `{employee_id}`, `{period_id}`, `{company_id}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    employee: str = "employees/{employee_id}"
    """GET (CERTAIN) and PUT (INFERRED) one employee."""
    employment_periods: str = "employees/{employee_id}/employmentperiods"
    """GET (CERTAIN) and POST (INFERRED) an employee's employment periods."""
    employment_period: str = "employees/{employee_id}/employmentperiods/{period_id}"
    """PUT one employment period (INFERRED)."""
    document_categories: str = "companies/{company_id}/employmentdocumentcategories"
    """GET a company's employment document categories (INFERRED)."""
    documents: str = "employmentdocuments"
    """GET employment documents, query companyId, employeeId (INFERRED)."""
    document_upload: str = "employees/{employee_id}/employmentdocuments"
    """POST one document: {documentCategoryId, file: {fileName, contentType, contentLength,
    fileContent (base64)}} (INFERRED)."""
    permissions: str = "apiuser/permissions"
    """GET the API user's permissions: {permissions: ["employees:write", …]} (INFERRED)."""
