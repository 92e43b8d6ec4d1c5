"""The canonical field names and the text dtype every reader returns, shared by all the steps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadgov.fields import CANONICAL_FIELDS as CANONICAL_FIELDS  # re-exported

#: The dtype of every text column produced here: pandas 3's default `str` dtype (pyarrow-backed,
#: missing values are NaN, comparisons give plain numpy booleans). Test missing with `.isna()`.
TEXT_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)
CRM_FIELDS: tuple[str, ...] = ("email", "phone")
