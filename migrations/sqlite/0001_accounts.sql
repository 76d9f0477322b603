-- Login accounts: a name with a salted password hash, or a visitor (guest) device id.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    password_hash BLOB,
    salt          BLOB,
    visitor       BOOLEAN NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    last_login    BIGINT
);
