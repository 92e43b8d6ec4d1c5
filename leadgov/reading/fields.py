"""The canonical field names and the text dtype every reader returns, shared by all the steps."""

from __future__ import annotations

import numpy as np
import pandas as pd


CANONICAL_FIELDS: tuple[str, ...] = (
    "lead_id",
    "collected_at",
    "company_name",
    "siren",
    "naf_code",
    "employees",
    "legal_form",
    "postal_code",
    "country",
    "first_name",
    "last_name",
    "job_title",
    "email",
    "phone",
    "language",
    "budget_eur",
    "project_horizon_months",
    "need",
    "source",
    "campaign",
    "consent_at",
    "consent_proof",
    "replaces_lead_id",
)
#: The dtype of every text column produced here: pandas 3's default `str` dtype (pyarrow-backed,
#: missing values are NaN, comparisons give plain numpy booleans). Test missing with `.isna()`.
TEXT_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)
CRM_FIELDS: tuple[str, ...] = ("email", "phone")
