import math

import numpy as np
import pandas as pd
import pytest

from regrowth.dates import impute_date, study_day, to_date
from regrowth.rounding import format_half_up, round_half_up
from regrowth.summarize.stats import KM_TOLERANCE, clopper_pearson, kaplan_meier, km_median, km_quantile_time


def s(*values):
    return pd.Series(list(values), dtype="str")


def dt(*values):
    return pd.Series(pd.to_datetime(list(values)))


class TestStudyDay:
    def test_no_day_zero(self):
        ref = dt("2014-03-05", "2014-03-05", "2014-03-05", "2014-03-05")
        days = study_day(dt("2014-03-05", "2014-03-06", "2014-03-04", "2014-02-05"), ref)
        # the reference date is day 1, the day after day 2, the day before day -1
        assert days.tolist() == [1.0, 2.0, -1.0, -28.0]


class TestPartialDates:
    def test_complete_dates_only(self):
        assert to_date(s("2014-03-05", "2014-03", "2014", None)).isna().tolist() == [False, True, True, True]

    def test_first_and_flags(self):
        date, flag = impute_date(s("2014-03-05", "2014-03", "2014", None), how="first")
        assert date.tolist()[:3] == list(pd.to_datetime(["2014-03-05", "2014-03-01", "2014-01-01"]))
        assert pd.isna(date.iloc[3])
        assert flag.tolist()[1:3] == ["D", "M"] and pd.isna(flag.iloc[0]) and pd.isna(flag.iloc[3])

    def test_last_handles_month_length_and_leap_year(self):
        date, _ = impute_date(s("2016-02", "2015-02", "2014"), how="last")
        assert date.tolist() == list(pd.to_datetime(["2016-02-29", "2015-02-28", "2014-12-31"]))

    def test_min_dates_keeps_partial_start_on_first_dose(self):
        # '2014-03' admits the first dose 2014-03-10, so it is not imputed to before it
        date, flag = impute_date(s("2014-03", "2014-02", "2014"), how="first",
                                 min_dates=dt("2014-03-10", "2014-03-10", "2014-03-10"))
        assert date.tolist() == list(pd.to_datetime(["2014-03-10", "2014-02-01", "2014-03-10"]))
        assert flag.tolist() == ["D", "D", "M"]

    def test_invalid_calendar_date_is_not_a_date(self):
        assert to_date(s("2014-02-30")).isna().all()
        assert impute_date(s("2014-02-30"), how="last")[0].isna().all()


class TestRoundHalfUp:
    @pytest.mark.parametrize("x,digits,expected", [(2.5, 0, 3.0), (0.125, 2, 0.13), (2.675, 2, 2.68),
                                                   (-2.5, 0, -3.0), (31.81818, 1, 31.8), (0.05, 1, 0.1)])
    def test_values(self, x, digits, expected):
        assert round_half_up(x, digits) == expected

    def test_differs_from_python_round(self):
        assert round(2.5) == 2 and round_half_up(2.5) == 3.0

    def test_format(self):
        assert format_half_up(12.25, 1) == "12.3"
        assert format_half_up(float("nan"), 1) == "–"


class TestClopperPearson:
    # Reference values: exact binomial intervals (R binom.test / SAS EXACT BINOMIAL).
    @pytest.mark.parametrize("x,n,low,high", [
        (9, 12, 0.4281415, 0.9451394),
        (21, 66, 0.2088984, 0.4443922),
        (0, 10, 0.0, 0.3084971),
        (10, 10, 0.6915029, 1.0),
        (1, 2, 0.01257912, 0.98742088),
    ])
    def test_known_values(self, x, n, low, high):
        lo, hi = clopper_pearson(x, n)
        assert lo == pytest.approx(low, abs=1e-6) and hi == pytest.approx(high, abs=1e-6)

    def test_empty_denominator(self):
        assert all(math.isnan(v) for v in clopper_pearson(0, 0))

    def test_rejects_impossible_counts(self):
        with pytest.raises(ValueError):
            clopper_pearson(5, 4)


class TestKaplanMeier:
    # Gehan (1965) 6-MP arm of the leukaemia remission trial: a textbook example.
    TIME = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]

    def test_survival_estimates(self):
        km = kaplan_meier(np.array(self.TIME), np.array(self.EVENT, bool)).set_index("time")
        assert km.loc[6, "surv"] == pytest.approx(0.8571, abs=1e-4)
        assert km.loc[13, "surv"] == pytest.approx(0.6902, abs=1e-4)
        assert km.loc[22, "surv"] == pytest.approx(0.5378, abs=1e-4)
        assert km.loc[23, "surv"] == pytest.approx(0.4482, abs=1e-4)
        assert km.loc[6, "n_risk"] == 21 and km.loc[6, "n_event"] == 3 and km.loc[6, "n_censor"] == 1

    def test_median_and_loglog_ci(self):
        # SAS PROC LIFETEST (CONFTYPE=LOGLOG) gives median 23, 95% CI [13, .]
        median, low, high = km_median(self.TIME, np.array(self.EVENT, bool))
        assert median == 23 and low == 13 and math.isnan(high)

    def test_median_not_reached(self):
        median, _, _ = km_median([4, 8, 12, 12, 12], [True, False, False, False, False])
        assert math.isnan(median)



class TestKaplanMeierMedianConvention:
    """The median where S rests at exactly 0.5. SAS/STAT PROC LIFETEST documentation (Computational
    Formulas): "If S(t) is exactly equal to 0.75 from t_j to t_j+1, the first quartile is taken to
    be (t_j + t_j+1)/2", the same rule for every percentile; R survival's quantile.survfit help:
    "it is possible for the curve to have a horizontal segment at exactly 1-k, in which case the
    midpoint of the horizontal segment is returned", with tolerance sqrt(.Machine$double.eps).
    Expected values are computed by hand in each test."""

    def test_uncensored_sample_median(self):
        # 1..10 all events: S = 0.5 on [5, 6), the sample median (5 + 6) / 2
        median, _, _ = km_median(range(1, 11), [True] * 10)
        assert median == 5.5

    def test_loglog_limits_by_hand(self):
        # 1..10 all events, Greenwood sum at t=k: sum 1/((11-j)(10-j)) = 1/(10-k) - 1/10;
        # se = sqrt(that) / |log S|; lower = exp(-exp(log(-log S) + 1.96 se)), upper with - 1.96 se.
        # k=1: S=0.9, se=0.105409/0.105361=1.000463, lower = exp(-exp(-2.250367+1.960870)) = 0.4730
        #      <= 0.5, so the lower limit is 1 (the band is above 0.5 nowhere after S < 1).
        # k=7: S=0.3, se=0.483046/1.203973=0.401210, upper = exp(-exp(0.185624-0.786357)) = 0.5778
        # k=8: S=0.2, se=0.632456/1.609438=0.392967, upper = exp(-exp(0.475885-0.770197)) = 0.4747
        #      < 0.5, so the upper limit is 8.
        assert km_median(range(1, 11), [True] * 10) == (5.5, 1.0, 8.0)

    def test_plateau_at_half_then_later_event(self):
        # events at 1 and 2 of 4 (S = 0.75, 0.5), a censoring at 3 (S stays 0.5), the last event at
        # 5 (S = 0): the flat at 0.5 runs from 2 to the next drop at 5, not to the censoring at 3
        median, low, high = km_median([1, 2, 3, 5], [True, True, False, True])
        assert median == 3.5
        # lower band at t=1 (S=0.75, se = sqrt(1/12)/0.287682 = 1.003452):
        # exp(-exp(log(0.287682) + 1.96*1.003452)) = exp(-exp(0.7208)) = 0.128 <= 0.5 -> 1.
        # The upper band is undefined where S = 0 (as in R): it never reaches 0.5, not reached.
        assert low == 1.0 and math.isnan(high)

    def test_curve_ending_at_exactly_half(self):
        # events at 1 and 2 of 4, both others censored (3, 4): S = 0.5 from 2 to the end. R's
        # quantile.survfit (findq: "a flat at the end of the curve is a special case") takes the
        # midpoint of the flat's start and the last time on the curve: (2 + 4) / 2. (SAS's formula,
        # min{t_j : S(t_j) < 0.5}, has no such time; print.survfit's survmean/minmin code gives 2.)
        median, _, _ = km_median([1, 2, 3, 4], [True, True, False, False])
        assert median == 3.0

    def test_product_rounding_is_tolerated(self):
        # S as a product of (1 - 1/n): 1..100 gives S(50) = 0.49999999999999956 and 1..30 gives
        # S(15) = 0.5000000000000001, both 0.5 exactly; the medians are 50.5 and 15.5
        km = kaplan_meier(np.arange(1, 101), np.ones(100, bool)).set_index("time")
        assert km.loc[50, "surv"] != 0.5  # the premise: the product is not exactly 0.5
        assert km_median(np.arange(1, 101), np.ones(100, bool))[0] == 50.5
        assert km_median(np.arange(1, 31), np.ones(30, bool))[0] == 15.5

    def test_tolerance_is_rs(self):
        t = [1.0, 2.0, 3.0]
        assert KM_TOLERANCE == pytest.approx(1.4901161193847656e-08)
        assert km_quantile_time(t, [0.75, 0.5 + 1e-9, 0.2]) == 2.5  # within tolerance: a flat at 0.5
        assert km_quantile_time(t, [0.75, 0.5 - 1e-9, 0.2]) == 2.5
        assert km_quantile_time(t, [0.75, 0.5 - 1e-6, 0.2]) == 2.0  # a crossing, not a flat
        assert math.isnan(km_quantile_time(t, [0.75, 0.5 + 1e-6, 0.6]))

    def test_crossing_without_flat_is_first_time_below(self):
        # Gehan 6-MP arm: S drops from 0.5378 to 0.4482 at 23 (no flat): the median stays 23
        assert km_median(TestKaplanMeier.TIME, np.array(TestKaplanMeier.EVENT, bool))[0] == 23


@pytest.mark.parametrize("seed", range(3))
def test_to_date_is_the_row_by_row_parse_of_complete_dates(seed):
    rng = np.random.default_rng(seed)
    pool = ["2014-03-05", "2014-03", "2014", "2020-02-30", "2016-02-29T10:00", "2015-02-29", "1999-12-31",
            "x", "", None, "2014-3-5", "2014-03-05Z"]
    values = pd.Series([pool[i] for i in rng.integers(0, len(pool), 200)], dtype="str",
                       index=rng.permutation(1000)[:200])
    full = values.str.extract(r"^(\d{4}-\d{2}-\d{2})")[0]
    expected = pd.to_datetime(full, format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    pd.testing.assert_series_equal(to_date(values), expected.rename(None))
