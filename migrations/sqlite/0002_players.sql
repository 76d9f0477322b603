-- One player per account: the platform (hall) profile.
CREATE TABLE players (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT  NOT NULL UNIQUE REFERENCES accounts(id),
    nickname   TEXT    NOT NULL,
    sex        INTEGER NOT NULL DEFAULT 0,
    head_id    INTEGER NOT NULL DEFAULT 0,
    head_url   TEXT    NOT NULL DEFAULT '',
    gold       BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
