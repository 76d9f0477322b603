-- Login accounts: a name with a salted password hash, or a visitor (guest) device id.
CREATE TABLE accounts (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name          VARCHAR(64)  NOT NULL,
    password_hash VARBINARY(64),
    salt          VARBINARY(32),
    visitor       BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at    BIGINT       NOT NULL,
    last_login    BIGINT,
    UNIQUE KEY accounts_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
