//! Response codes and kick reasons, as docs/PROTOCOL.md tabulates them.

pub const OK: i64 = 0;
pub const UNKNOWN_ACCOUNT: i64 = 13;
pub const AT_DESK: i64 = 25;
pub const WRONG_PHASE: i64 = 33;
pub const CHAT_TOO_FAST: i64 = 41;

/// Every code of the protocol's error table, in order.
pub const CODES: &[(i64, &str)] = &[
    (0, "OK"),
    (1, "INTERNAL"),
    (2, "BAD_REQUEST"),
    (3, "UNKNOWN_MESSAGE"),
    (4, "NOT_LOGGED_IN"),
    (5, "ALREADY_LOGGED_IN"),
    (6, "UNAVAILABLE"),
    (7, "BUSY"),
    (8, "GAME_DOWN"),
    (10, "ACCOUNT_EXISTS"),
    (11, "BAD_ACCOUNT"),
    (12, "BAD_PASSWORD"),
    (13, "UNKNOWN_ACCOUNT"),
    (14, "NO_CHALLENGE"),
    (15, "BAD_PROOF"),
    (16, "BAD_TOKEN"),
    (17, "BAD_RECONNECT"),
    (18, "QUEUE_FULL"),
    (19, "BAD_NICKNAME"),
    (20, "UNKNOWN_ROOM"),
    (21, "NOT_IN_ROOM"),
    (22, "IN_ROOM"),
    (23, "ROOM_FULL"),
    (24, "LOW_GOLD"),
    (25, "AT_DESK"),
    (30, "UNKNOWN_DESK"),
    (31, "DESK_FULL"),
    (32, "NOT_AT_DESK"),
    (33, "WRONG_PHASE"),
    (34, "NOT_PLAYING"),
    (35, "ALREADY_ACTED"),
    (36, "BAD_TIMES"),
    (37, "BANKER_NO_BET"),
    (40, "CHAT_TOO_LONG"),
    (41, "CHAT_TOO_FAST"),
    (42, "BAD_SCOPE"),
    (43, "NOT_IN_SCOPE"),
    (44, "CHAT_EMPTY"),
];

/// The table name of a code, or "UNDOCUMENTED" for one the protocol does not define.
pub fn name(code: i64) -> &'static str {
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or("UNDOCUMENTED")
}

pub mod kick {
    pub const DUPLICATE_LOGIN: i64 = 1;
    pub const BANNED: i64 = 2;
    pub const MAINTENANCE: i64 = 3;
    pub const IDLE: i64 = 4;
    pub const LOGOUT: i64 = 5;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_table() {
        assert_eq!(name(0), "OK");
        assert_eq!(name(13), "UNKNOWN_ACCOUNT");
        assert_eq!(name(44), "CHAT_EMPTY");
        assert_eq!(name(9), "UNDOCUMENTED");
        let mut prev = -1;
        for (c, _) in CODES {
            assert!(*c > prev, "codes sorted and unique");
            prev = *c;
        }
    }
}
