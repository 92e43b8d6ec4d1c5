"""Period labels and the calendar months a period touches."""

import pytest

from leadgov.periods import BadPeriod, months_in, parse_period


def test_months_of_a_quarter_a_week_across_months_and_a_month():
    assert months_in(parse_period("2027-Q1")) == ["2027-01", "2027-02", "2027-03"]
    assert months_in(parse_period("2027-W05")) == ["2027-02"]          # 1-7 February
    assert months_in(parse_period("2027-W13")) == ["2027-03", "2027-04"]  # 29 March - 4 April
    assert months_in(parse_period("2027-12")) == ["2027-12"]


@pytest.mark.parametrize("label", ["2027-13", "2027-W54", "2027-Q5", "delivery:x", "soon"])
def test_unknown_labels_are_refused(label):
    with pytest.raises(BadPeriod):
        parse_period(label)
