-- One player per account: the platform (hall) profile.
CREATE TABLE players (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT       NOT NULL,
    nickname   VARCHAR(64)  NOT NULL,
    sex        INT          NOT NULL DEFAULT 0,
    head_id    INT          NOT NULL DEFAULT 0,
    head_url   VARCHAR(255) NOT NULL DEFAULT '',
    gold       BIGINT       NOT NULL DEFAULT 0,
    created_at BIGINT       NOT NULL,
    updated_at BIGINT       NOT NULL,
    UNIQUE KEY players_account (account_id),
    CONSTRAINT players_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
