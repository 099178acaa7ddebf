//! Splitting one billable amount between its financers and the participant.
//!
//! Each eligible financer covers `rate` of the gross amount. The exact shares are rarely
//! whole cents, so they are rounded by the **largest remainder** rule: the total covered is
//! the exact total rounded down to the cent (public money never over-covers), each financer
//! first gets its share rounded down, and the cents left go one each to the financers with
//! the largest dropped fractions (ties: the order the financing rules are listed in). Then
//! each financer's amount is limited by its cap for this participant and period and by what
//! is left of its envelope; what a cap removes stays with the participant. The amounts
//! always sum to the gross amount, none is negative, none exceeds a cap or an envelope.

use super::BillingError;

/// One financer's terms for the line being split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub financer: String,
    /// Rate in basis points (5000 = 50 %).
    pub rate_bp: u32,
    /// What the financer may still cover for this participant in this period, in cents.
    pub cap_remaining: i64,
    /// What is left of the financer's envelope, in cents.
    pub envelope_remaining: i64,
}

/// The split of one amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Each financer's amount, in the order of the shares given.
    pub financed: Vec<(String, i64)>,
    /// What remains for the participant.
    pub participant: i64,
}

/// Split `gross` cents between `shares` and the participant.
pub fn allocate(gross: i64, shares: &[Share]) -> Result<Allocation, BillingError> {
    if gross < 0 {
        return Err(BillingError::Computation(format!(
            "cannot allocate a negative amount ({gross} cents); corrections are credit notes"
        )));
    }
    let total_rate: u32 = shares.iter().map(|s| s.rate_bp).sum();
    if total_rate > 10_000 {
        return Err(BillingError::Computation(format!(
            "financers' rates sum to {}.{:02} %, more than 100 %",
            total_rate / 100,
            total_rate % 100
        )));
    }
    let gross_wide = i128::from(gross);
    let exact: Vec<(i128, i128)> = shares
        .iter()
        .map(|s| {
            let product = gross_wide * i128::from(s.rate_bp);
            (product / 10_000, product % 10_000)
        })
        .collect();
    let total = gross_wide * i128::from(total_rate) / 10_000;
    let floors: i128 = exact.iter().map(|(floor, _)| floor).sum();
    let mut extra = total - floors;
    // Largest remainders first; a stable sort keeps the listed order among ties.
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1));
    let mut amounts: Vec<i128> = exact.iter().map(|(floor, _)| *floor).collect();
    for index in order {
        if extra == 0 {
            break;
        }
        if exact[index].1 > 0 {
            amounts[index] += 1;
            extra -= 1;
        }
    }
    let mut financed = Vec::with_capacity(shares.len());
    let mut covered: i64 = 0;
    for (share, amount) in shares.iter().zip(amounts) {
        let limit = share.cap_remaining.min(share.envelope_remaining).max(0);
        let amount = i64::try_from(amount)
            .map_err(|_| BillingError::Computation("amount out of range".into()))?
            .min(limit);
        covered += amount;
        financed.push((share.financer.clone(), amount));
    }
    Ok(Allocation {
        financed,
        participant: gross - covered,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn share(name: &str, rate_bp: u32) -> Share {
        Share {
            financer: name.into(),
            rate_bp,
            cap_remaining: i64::MAX,
            envelope_remaining: i64::MAX,
        }
    }

    #[test]
    fn halves_and_thirds_reconcile() {
        let split = allocate(101, &[share("region", 5000)]).unwrap();
        assert_eq!(split.financed[0].1, 50);
        assert_eq!(split.participant, 51);
        // 100 cents × 3 × 33.33 % = 99.99 → 99 covered: 33 each, nothing left to spread.
        let thirds =
            allocate(100, &[share("a", 3333), share("b", 3333), share("c", 3333)]).unwrap();
        assert_eq!(thirds.financed.iter().map(|f| f.1).sum::<i64>(), 99);
        // 10 cents at 25 % + 25 %: exact 2.5 + 2.5 = 5; floors 2 + 2, one cent to the first.
        let quarters = allocate(10, &[share("a", 2500), share("b", 2500)]).unwrap();
        assert_eq!(quarters.financed, vec![("a".into(), 3), ("b".into(), 2)]);
        assert_eq!(quarters.participant, 5);
    }

    #[test]
    fn caps_and_envelopes_leave_the_rest_to_the_participant() {
        let mut region = share("region", 5000);
        region.cap_remaining = 300;
        let mut fund = share("fund", 3000);
        fund.envelope_remaining = 100;
        let split = allocate(1000, &[region, fund]).unwrap();
        assert_eq!(
            split.financed,
            vec![("region".into(), 300), ("fund".into(), 100)]
        );
        assert_eq!(split.participant, 600);
    }

    #[test]
    fn refuses_over_100_percent_and_negative_amounts() {
        assert!(allocate(100, &[share("a", 6000), share("b", 5000)]).is_err());
        assert!(allocate(-1, &[share("a", 100)]).is_err());
    }

    proptest! {
        #[test]
        fn allocations_always_reconcile(
            gross in 0i64..10_000_000_000,
            terms in proptest::collection::vec((0u32..=10_000, 0i64..1_000_000_000, 0i64..1_000_000_000), 0..5),
        ) {
            // Scale the rates so they never exceed 100 % in total.
            let total: u32 = terms.iter().map(|t| t.0).sum();
            let shares: Vec<Share> = terms.iter().enumerate().map(|(i, (rate, cap, envelope))| Share {
                financer: format!("f{i}"),
                rate_bp: if total > 10_000 { rate * 10_000 / total } else { *rate },
                cap_remaining: *cap,
                envelope_remaining: *envelope,
            }).collect();
            let split = allocate(gross, &shares).unwrap();
            let covered: i64 = split.financed.iter().map(|f| f.1).sum();
            prop_assert_eq!(covered + split.participant, gross);
            prop_assert!(split.participant >= 0);
            for ((_, amount), share) in split.financed.iter().zip(&shares) {
                prop_assert!(*amount >= 0);
                prop_assert!(*amount <= share.cap_remaining && *amount <= share.envelope_remaining);
                // Uncapped, each share is within one cent of its exact value.
                let exact = i128::from(gross) * i128::from(share.rate_bp);
                let limit = share.cap_remaining.min(share.envelope_remaining);
                if i128::from(*amount) < i128::from(limit) {
                    prop_assert!((i128::from(*amount) * 10_000 - exact).abs() < 10_000);
                }
            }
        }
    }
}
