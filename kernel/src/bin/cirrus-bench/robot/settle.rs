//! Checks a `game_end` settlement against the rules of docs/PROTOCOL.md: the round is zero-sum
//! before fees, each winner pays `fee_percent` of the win rounded down, `gold_delta = score -
//! fee`, no balance goes negative, and exactly the announced banker is flagged. A `void`
//! round (the server could not store the settlement) must move no gold at all.

use cirrus::sproto::{Struct, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatResult {
    pub seat: i64,
    pub uid: i64,
    pub score: i64,
    pub fee: i64,
    pub gold_delta: i64,
    pub gold: i64,
    pub banker: bool,
}

impl SeatResult {
    pub fn from_struct(s: &Struct) -> SeatResult {
        let i = |f: &str| s.get(f).and_then(Value::as_integer).unwrap_or(0);
        SeatResult {
            seat: i("seat"),
            uid: i("uid"),
            score: i("score"),
            fee: i("fee"),
            gold_delta: i("gold_delta"),
            gold: i("gold"),
            banker: s.get("banker").and_then(Value::as_bool).unwrap_or(false),
        }
    }
}

/// The results of a `game_end` body.
pub fn results(body: &Struct) -> Vec<SeatResult> {
    body.get("results")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_struct)
        .map(SeatResult::from_struct)
        .collect()
}

/// Whether the server marked the round void (nothing settled).
pub fn void(body: &Struct) -> bool {
    body.get("void").and_then(Value::as_bool) == Some(true)
}

/// What a void round breaks: any gold moved.
pub fn check_void(results: &[SeatResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.gold_delta != 0)
        .map(|r| {
            format!(
                "void round, yet seat {} gold_delta {}",
                r.seat, r.gold_delta
            )
        })
        .collect()
}

/// Every rule the settlement breaks, in words (empty: consistent).
pub fn check(results: &[SeatResult], banker: i64, fee_percent: i64) -> Vec<String> {
    let mut bad = Vec::new();
    if results.len() < 2 {
        bad.push(format!(
            "{} results (a round has at least 2 players)",
            results.len()
        ));
    }
    let sum: i64 = results.iter().map(|r| r.score).sum();
    if sum != 0 {
        bad.push(format!("scores sum to {sum}, not 0"));
    }
    for r in results {
        let fee = if r.score > 0 {
            r.score * fee_percent / 100
        } else {
            0
        };
        if r.fee != fee {
            bad.push(format!(
                "seat {}: fee {} for score {} (expected {fee})",
                r.seat, r.fee, r.score
            ));
        }
        if r.gold_delta != r.score - r.fee {
            bad.push(format!(
                "seat {}: gold_delta {} != score {} - fee {}",
                r.seat, r.gold_delta, r.score, r.fee
            ));
        }
        if r.gold < 0 {
            bad.push(format!("seat {}: gold {} below 0", r.seat, r.gold));
        }
    }
    let flagged: Vec<i64> = results
        .iter()
        .filter(|r| r.banker)
        .map(|r| r.seat)
        .collect();
    if flagged != [banker] {
        bad.push(format!("banker is seat {banker}, results flag {flagged:?}"));
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(seat: i64, score: i64, fee: i64, gold: i64, banker: bool) -> SeatResult {
        SeatResult {
            seat,
            uid: 100 + seat,
            score,
            fee,
            gold_delta: score - fee,
            gold,
            banker,
        }
    }

    #[test]
    fn a_consistent_round_passes() {
        // Banker (seat 2) wins 30 from seat 0 and loses 19 to seat 4: +11, fee 0 (5% of 11).
        let rs = [
            r(0, -30, 0, 970, false),
            r(2, 11, 0, 1011, true),
            r(4, 19, 0, 1019, false),
        ];
        assert_eq!(check(&rs, 2, 5), Vec::<String>::new());
        let rs = [r(0, -200, 0, 800, false), r(1, 200, 10, 1190, true)];
        assert!(check(&rs, 1, 5).is_empty());
    }

    #[test]
    fn each_broken_rule_is_reported() {
        let mut rs = vec![r(0, -100, 0, 900, false), r(1, 90, 4, 1086, true)];
        let bad = check(&rs, 1, 5);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].contains("sum to -10"));
        rs[1].score = 100;
        rs[1].gold_delta = 96; // fee 4 but 5% of 100 is 5
        let bad = check(&rs, 1, 5);
        assert!(bad.iter().any(|b| b.contains("expected 5")), "{bad:?}");
        rs[1].fee = 5;
        let bad = check(&rs, 1, 5);
        assert!(bad.iter().any(|b| b.contains("gold_delta 96")), "{bad:?}");
        rs[1].gold_delta = 95;
        rs[0].gold = -1;
        let bad = check(&rs, 1, 5);
        assert_eq!(bad, vec!["seat 0: gold -1 below 0".to_string()]);
        rs[0].gold = 0;
        assert!(check(&rs, 1, 5).is_empty());
        assert_eq!(check(&rs, 0, 5).len(), 1, "wrong banker");
        assert_eq!(
            check(&rs[..1], 1, 5).len(),
            3,
            "one player, not zero-sum, no banker"
        );
    }

    #[test]
    fn results_decode_from_a_game_end_body() {
        let seat = |i: i64, score: i64| {
            Value::Struct(
                Struct::new()
                    .with("seat", i)
                    .with("uid", 7 + i)
                    .with("score", score)
                    .with("gold_delta", score)
                    .with("gold", 500i64)
                    .with("fee", 0i64)
                    .with("banker", i == 1),
            )
        };
        let body = Struct::new()
            .with("banker", 1i64)
            .with("results", Value::Array(vec![seat(0, -3), seat(1, 3)]));
        let rs = results(&body);
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[1], r(1, 3, 0, 500, true).with_uid(8));
        assert!(check(&rs, 1, 5).is_empty());
    }

    #[test]
    fn a_void_round_moves_nothing() {
        let mut rs = vec![r(0, -10, 0, 990, false), r(1, 10, 0, 1010, true)];
        for x in &mut rs {
            x.gold_delta = 0;
        }
        assert!(check_void(&rs).is_empty());
        rs[1].gold_delta = 10;
        assert_eq!(check_void(&rs).len(), 1);
        assert!(void(&Struct::new().with("void", true)));
        assert!(!void(&Struct::new()));
    }

    impl SeatResult {
        fn with_uid(mut self, uid: i64) -> Self {
            self.uid = uid;
            self
        }
    }
}
